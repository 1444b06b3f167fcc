"""Billing tables. The core creates the milestones named in a room's terms; the escrow rules
(funding, release, refunds, disputes) live beside this module."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from workroom.db.base import Base


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

    def public(self) -> dict[str, object]:
        return {"id": self.id, "title": self.title, "amount": self.amount, "position": self.position,
                "due_date": self.due_date.isoformat() if self.due_date else None,
                "state": self.state, "percent_complete": self.percent_complete}
