"""Support case tables. A case belongs to one room; what happens on it is in the room's record
(`case.*` events) — these rows hold the state the rules need (the outreach window, approvals)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from workroom.db.base import Base, UTCDateTime

CASE_STATUSES = ("open", "resolved", "closed")
# none → open (first attempt logged) → responded | closed (the window passed without a response)
OUTREACH_STATES = ("none", "open", "responded", "closed")
APPROVALS = ("credit", "contact_details")


class SupportCase(Base):
    __tablename__ = "support_cases"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id"), index=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    status: Mapped[str] = mapped_column(String(16), default="open")
    complaint: Mapped[str] = mapped_column(Text)
    wants: Mapped[str] = mapped_column(Text)
    disputed_amount: Mapped[int] = mapped_column(Integer)  # minor units of the room's currency
    research: Mapped[dict[str, Any]] = mapped_column(JSON)  # the summary as it was when the case opened
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outreach_party_id: Mapped[str | None] = mapped_column(String(64))
    outreach_state: Mapped[str] = mapped_column(String(16), default="none")
    outreach_attempts: Mapped[int] = mapped_column(Integer, default=0)
    outreach_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    credits_granted: Mapped[int] = mapped_column(Integer, default=0)  # how many (the ledger has the money)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(Text)


class CaseApproval(Base):
    """A lead's second approval: single use, for one credit (up to `amount`, if set) or one
    release of a party's contact details."""

    __tablename__ = "case_approvals"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("support_cases.id"), index=True)
    what: Mapped[str] = mapped_column(String(32))  # credit | contact_details
    approver_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime())
    amount: Mapped[int | None] = mapped_column(Integer)
    party_role: Mapped[str | None] = mapped_column(String(16))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
