"""Rooms, their members, the room log and what hangs off it (read markers, archive, files, meetings)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workroom.db.base import Base, UTCDateTime

ROOM_STATUSES = ("proposal", "working", "complete", "cancelled", "expired", "disputed")
ARCHIVABLE_STATUSES = ("working", "complete", "cancelled", "expired")
MEMBER_ROLES = ("client", "freelancer", "team", "guest", "support")
GENESIS_HASH = "0" * 64


class Room(Base):
    __tablename__ = "rooms"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    job_ref: Mapped[str | None] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # fixed | hourly
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    invite_only: Mapped[bool] = mapped_column(Boolean, default=False)
    hourly_rate: Mapped[int | None] = mapped_column(Integer)
    weekly_limit_hours: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The log's head: bumped under the room's row lock by every append, so `seq` is gapless.
    head_seq: Mapped[int] = mapped_column(Integer, default=0)
    head_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)
    last_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("room_id", "account_id"),)  # also the index by room

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id"))
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    email_notifications: Mapped[bool] = mapped_column(Boolean, default=True)

    def active_at(self, now: datetime) -> bool:
        return self.removed_at is None and (self.expires_at is None or self.expires_at > now)

    def expired_at(self, now: datetime) -> bool:
        return self.removed_at is None and self.expires_at is not None and self.expires_at <= now


class Event(Base):
    """One entry of a room's log. Insert-only: nothing updates or deletes a row of this table."""

    __tablename__ = "events"
    # No index by type: every event pays for each index, and the primary key (room_id, seq) serves
    # the rare lookup of a room's event by type, from the newest.
    __table_args__ = (UniqueConstraint("room_id", "actor_id", "client_id"),)

    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(8))
    client_id: Mapped[str | None] = mapped_column(String(200))
    # The envelope exactly as published: serialised once, sent as is to every socket and mail.
    envelope: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ReadMarker(Base):
    __tablename__ = "read_markers"

    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id"), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)


class Archive(Base):
    __tablename__ = "archives"

    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id"), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    archived_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RoomFile(Base):
    __tablename__ = "files"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id"), index=True)
    uploader_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    storage_path: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    def public(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "size": self.size,
                "content_type": self.content_type, "sha256": self.sha256}


class Meeting(Base):
    __tablename__ = "meetings"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id"), index=True)
    inviter_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    invitee_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    proposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="invited")  # invited | accepted | declined
