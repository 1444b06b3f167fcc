"""Durable deadlines. A timer is a row; the worker claims due rows and runs the handler named by
`kind` in one transaction with whatever the handler writes, then marks the row fired. Handlers
re-check state, so a timer whose reason has gone (a release voided, a dispute opened) does nothing.
On PostgreSQL claims use `FOR UPDATE SKIP LOCKED`, so several workers never fire one timer twice."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from sqlalchemy import JSON, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from workroom.db.base import Base, UTCDateTime
from workroom.db.database import skip_locked
from workroom.metrics import TIMER_LATENESS, TIMERS_FIRED

if TYPE_CHECKING:
    from workroom.services import Services, Tx

log = logging.getLogger(__name__)

TimerHandler = Callable[["Tx", "Timer"], Awaitable[None]]


class Timer(Base):
    __tablename__ = "timers"
    __table_args__ = (UniqueConstraint("kind", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(64))
    # What the timer is about (`m_3:overdue`); with `kind` it makes scheduling idempotent.
    key: Mapped[str] = mapped_column(String(200))
    room_id: Mapped[str | None] = mapped_column(String(64), index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))


class Timers:
    def __init__(self) -> None:
        self.handlers: dict[str, TimerHandler] = {}

    async def schedule(
        self, tx: "Tx", kind: str, key: str, due_at: datetime, *, room_id: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> Timer:
        """Schedule, or move, the one pending timer for (kind, key)."""
        timer = await tx.session.scalar(select(Timer).where(Timer.kind == kind, Timer.key == key))
        if timer is None:
            timer = Timer(kind=kind, key=key, room_id=room_id, due_at=due_at, payload=payload or {})
            tx.session.add(timer)
        else:
            timer.due_at, timer.payload = due_at, payload or {}
            timer.fired_at = timer.cancelled_at = None
        await tx.session.flush()
        return timer

    async def cancel(self, tx: "Tx", kind: str, key: str) -> None:
        """Cancel the pending timer for (kind, key). A command holds its room's lock when it cancels,
        while a firing worker holds the timer row and waits for that room: so on PostgreSQL a timer
        being fired right now is skipped rather than waited for (its handler re-checks the state
        after our commit and does nothing), which keeps the two lock orders from deadlocking."""
        timer = await tx.session.scalar(skip_locked(tx.session, select(Timer).where(
            Timer.kind == kind, Timer.key == key, Timer.fired_at.is_(None))))
        if timer is not None:
            timer.cancelled_at = tx.now

    async def run_due(self, services: "Services", limit: int = 100_000) -> int:
        """Fire every timer due by the clock's now, each in its own transaction; returns how many.
        `limit` bounds one call, so a flood of due timers cannot hold the worker forever."""
        fired = 0
        while fired < limit and await self._fire_one(services):
            fired += 1
        return fired

    async def _fire_one(self, services: "Services") -> bool:
        async with services.transaction() as tx:
            timer = await tx.session.scalar(skip_locked(tx.session, (
                select(Timer)
                .where(Timer.fired_at.is_(None), Timer.cancelled_at.is_(None), Timer.due_at <= tx.now)
                .order_by(Timer.due_at, Timer.id)
                .limit(1)
            )))
            if timer is None:
                return False
            TIMER_LATENESS.observe(max(0.0, (tx.now - timer.due_at).total_seconds()))
            handler = self.handlers.get(timer.kind)
            if handler is None:
                log.error("no handler for timer kind %s; marking it fired", timer.kind)
                timer.fired_at = tx.now
                return True
            appended = len(tx.events)
            try:
                async with tx.session.begin_nested():
                    await handler(tx, timer)
            except Exception as exc:  # a broken handler must not wedge every later timer
                log.exception("timer %s %s failed", timer.kind, timer.key)
                timer.attempts += 1
                timer.last_error = repr(exc)[:500]
                timer.due_at = tx.now + timedelta(seconds=min(3600, 30 * 2 ** min(timer.attempts, 7)))
                del tx.events[appended:]  # rolled back with the savepoint: never publish them
                TIMERS_FIRED.labels(timer.kind, "failed").inc()
                return True
            timer.fired_at = tx.now
            TIMERS_FIRED.labels(timer.kind, "ok").inc()
            return True
