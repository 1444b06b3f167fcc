"""The email bridge's tables: room tags, reply tokens, the outbox and the inbound mail store."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from workroom.db.base import Base, UTCDateTime


class RoomMailTag(Base):
    """The short random tag a room's mail carries in `[WR:<tag>]` and in its Message-IDs."""

    __tablename__ = "email_room_tags"

    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(40), unique=True)


class ReplyToken(Base):
    """One member's reply address for one room: `reply+<token>@domain`.

    Looked up by its sha256 only. The token itself is kept sealed with a key derived from
    WORKROOM_SECRET (which never enters the database), because every later mail to that
    member must carry the same address.
    """

    __tablename__ = "email_reply_tokens"
    __table_args__ = (Index("ix_email_reply_tokens_member", "room_id", "account_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id"))
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    sealed: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OutboxMail(Base):
    """One mail to send. `event` rows name a room event (several may go out as one batched mail);
    `notice` rows (held post, bounce) carry their own subject and text."""

    __tablename__ = "email_outbox"
    __table_args__ = (Index("ix_email_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # event | notice
    room_id: Mapped[str | None] = mapped_column(String(64), index=True)
    event_seq: Mapped[int | None] = mapped_column(Integer)
    account_id: Mapped[str | None] = mapped_column(String(64))
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(String(500))
    body_text: Mapped[str | None] = mapped_column(Text)
    in_reply_to: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sending | sent | failed
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    message_id: Mapped[str | None] = mapped_column(String(300))


class ReceivedMail(Base):
    """A received mail, stored before the SMTP server answers 250, processed afterwards."""

    __tablename__ = "email_inbound"
    __table_args__ = (
        Index("ix_email_inbound_pending", "status", "next_attempt_at"),
        Index("ix_email_inbound_message_id", "message_id"),
        Index("ix_email_inbound_fingerprint", "fingerprint"),
        Index("ix_email_inbound_sender_outcome", "from_address", "outcome"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    peer: Mapped[str] = mapped_column(String(100))
    mail_from: Mapped[str] = mapped_column(String(320))
    rcpt_to: Mapped[str] = mapped_column(Text)  # newline-separated
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default="new")  # new | done
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    message_id: Mapped[str | None] = mapped_column(String(500))
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    from_address: Mapped[str | None] = mapped_column(String(320))
    outcome: Mapped[str | None] = mapped_column(String(16))  # post | hold | refuse | ignore | bounce | duplicate
    detail: Mapped[str | None] = mapped_column(String(500))
    room_id: Mapped[str | None] = mapped_column(String(64))
    event_seq: Mapped[int | None] = mapped_column(Integer)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
