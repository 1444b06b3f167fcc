"""Billing tables: milestones (the core creates the ones named in a room's terms; the escrow rules
move them), the ledger (insert-only journal entries and their postings), gateway payments, terms
proposals, the dormancy watch, hourly work diary and invoices, and cancellation requests."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workroom.clock import isoformat
from workroom.db.base import Base, UTCDateTime

# not_funded → funding_requested → pending (unverified payment) → funded → release_requested →
# released; disputed freezes; refunded when every cent went back; removed by a terms change.
MILESTONE_STATES = ("not_funded", "funding_requested", "pending", "funded", "release_requested",
                    "disputed", "released", "refunded", "removed")


def _time(value: datetime | None) -> str | None:
    return isoformat(value) if value is not None else None


class Milestone(Base):
    __tablename__ = "milestones"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(500))
    amount: Mapped[int] = mapped_column(Integer)  # minor units, in the room's currency
    due_date: Mapped[date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(24), default="not_funded")
    percent_complete: Mapped[int] = mapped_column(Integer, default=0)
    # Running totals, written beside the postings that move the money; the ledger is the truth
    # and the invariant tests check these equal the sums of its postings.
    funded_amount: Mapped[int] = mapped_column(Integer, default=0)
    released_amount: Mapped[int] = mapped_column(Integer, default=0)
    refunded_amount: Mapped[int] = mapped_column(Integer, default=0)
    # The open release request: its number names its timers, so a voided one's timers go stale.
    release_requests: Mapped[int] = mapped_column(Integer, default=0)
    release_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    overdue: Mapped[bool] = mapped_column(default=False)
    invoice_id: Mapped[str | None] = mapped_column(String(64))  # the pro-forma invoice of the request
    disputed_from: Mapped[str | None] = mapped_column(String(24))  # the state a dispute froze
    payment_id: Mapped[str | None] = mapped_column(String(64))

    @property
    def in_escrow(self) -> int:
        return self.funded_amount - self.released_amount - self.refunded_amount

    def public(self) -> dict[str, object]:
        return {"id": self.id, "title": self.title, "amount": self.amount, "position": self.position,
                "due_date": self.due_date.isoformat() if self.due_date else None,
                "state": self.state, "percent_complete": self.percent_complete}


class LedgerEntry(Base):
    """One journal entry: balanced postings that move money for one reason. Insert-only."""

    __tablename__ = "ledger_entries"
    __table_args__ = (UniqueConstraint("room_id", "key"),)  # also the index by room

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id"))
    key: Mapped[str] = mapped_column(String(200))  # idempotency key: one entry per key per room
    kind: Mapped[str] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(3))
    milestone_id: Mapped[str | None] = mapped_column(String(64))
    event_seq: Mapped[int] = mapped_column(Integer)  # the room event that explains it
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    memo: Mapped[str | None] = mapped_column(Text)


class LedgerPosting(Base):
    """One side of an entry: a signed amount on a named account of the job. Insert-only."""

    __tablename__ = "ledger_postings"
    __table_args__ = (Index("ix_ledger_postings_room_account", "room_id", "account"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    room_id: Mapped[str] = mapped_column(String(64))
    account: Mapped[str] = mapped_column(String(100))
    amount: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class GatewayPayment(Base):
    """A charge through the payment gateway (funding a milestone, paying an hourly invoice)."""

    __tablename__ = "payments"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id"), index=True)
    milestone_id: Mapped[str | None] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # pending | completed
    gateway_ref: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "room": self.room_id, "milestone": self.milestone_id, "amount": self.amount,
                "currency": self.currency, "method": self.method, "status": self.status,
                "created_at": _time(self.created_at), "completed_at": _time(self.completed_at)}


class TermsProposal(Base):
    __tablename__ = "terms_proposals"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id"), index=True)
    proposer_id: Mapped[str] = mapped_column(String(64))
    proposer_role: Mapped[str] = mapped_column(String(16))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="proposed")  # proposed | accepted | declined
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "proposer": self.proposer_id, "proposer_role": self.proposer_role,
                "changes": self.changes, "status": self.status, "created_at": _time(self.created_at),
                "decided_at": _time(self.decided_at)}


class EscrowWatch(Base):
    """Per fixed-price room: the last activity that counts for dormancy, and the procedure's stage."""

    __tablename__ = "escrow_watch"

    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id"), primary_key=True)
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    stage: Mapped[str] = mapped_column(String(24), default="active")  # active | dormant | freelancer_notified
    # active: when the armed dormancy check fires; dormant / freelancer_notified: when the step began.
    stage_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WorkSegment(Base):
    """A span of the hourly work diary."""

    __tablename__ = "work_segments"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id"), index=True)
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    end: Mapped[datetime] = mapped_column(UTCDateTime())
    memo: Mapped[str] = mapped_column(Text)
    snapshots: Mapped[list[Any]] = mapped_column(JSON, default=list)
    invoice_id: Mapped[str | None] = mapped_column(String(64))

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "start": _time(self.start), "end": _time(self.end), "memo": self.memo,
                "seconds": int((self.end - self.start).total_seconds()), "snapshots": self.snapshots,
                "invoice": self.invoice_id}


class Invoice(Base):
    """A weekly hourly invoice, or the pro-forma invoice of a milestone release request."""

    __tablename__ = "invoices"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # weekly | pro_forma
    milestone_id: Mapped[str | None] = mapped_column(String(64))
    period_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    period_end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    seconds: Mapped[int] = mapped_column(Integer, default=0)  # tracked
    billable_seconds: Mapped[int] = mapped_column(Integer, default=0)  # capped by the weekly limit
    disputed_seconds: Mapped[int] = mapped_column(Integer, default=0)
    rate: Mapped[int | None] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(Integer)
    paid_amount: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(16))  # in_review | disputed | paid | issued | void
    dispute_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "milestone": self.milestone_id,
                "period_start": _time(self.period_start), "period_end": _time(self.period_end),
                "hours": round(self.seconds / 3600, 2), "billable_hours": round(self.billable_seconds / 3600, 2),
                "disputed_hours": round(self.disputed_seconds / 3600, 2), "rate": self.rate,
                "amount": self.amount, "paid_amount": self.paid_amount, "currency": self.currency,
                "state": self.state, "dispute_reason": self.dispute_reason, "created_at": _time(self.created_at)}


class Cancellation(Base):
    """A request to cancel an active job, with the refund it states."""

    __tablename__ = "cancellations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id"), index=True)
    requester_id: Mapped[str] = mapped_column(String(64))
    requester_role: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    refund: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="requested")  # requested | confirmed | rejected
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
