"""Feedback tables. Feedback rows are insert-only (feedback cannot be changed or removed); a
request's status moves pending → fulfilled | expired. Private comments live in their own table,
never in the room log, because the log is read and mailed by every member of the room."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from workroom.db.base import Base, UTCDateTime

FINAL, MID_CONTRACT = "final", "mid_contract"


class Feedback(Base):
    __tablename__ = "feedback"
    __table_args__ = (
        # One end-of-job feedback per author per contract, enforced by the database as well.
        Index("uq_feedback_final_per_author", "room_id", "author_id", unique=True,
              sqlite_where=text("kind = 'final'"), postgresql_where=text("kind = 'final'")),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # final | mid_contract
    author_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    author_role: Mapped[str] = mapped_column(String(16))  # client | freelancer
    subject_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text)
    hide_job_details: Mapped[bool] = mapped_column(Boolean, default=False)
    given_at: Mapped[datetime] = mapped_column(UTCDateTime())
    event_seq: Mapped[int] = mapped_column(Integer)  # the `feedback.left` event in the room's record


class FeedbackRequest(Base):
    """A freelancer's request for mid-contract feedback; the client has until `expires_at`."""

    __tablename__ = "feedback_requests"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id"), index=True)
    requester_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | fulfilled | expired
    feedback_id: Mapped[str | None] = mapped_column(String(64))


class PrivateComment(Base):
    """A client's comment to the platform about the freelancer: readable by staff (and its author)."""

    __tablename__ = "private_comments"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id"), index=True)
    author_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    subject_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
