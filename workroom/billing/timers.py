"""Billing's timer handlers, installed on the services at start-up. Every handler takes the room's
lock, re-reads the state and does nothing when the reason for the timer has gone, so a stale or
twice-claimed timer never moves money twice (the ledger's idempotency keys are the second guard)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from workroom.billing import dormancy, hourly, milestones, release_deadlines
from workroom.billing.models import Milestone
from workroom.clock import isoformat
from workroom.rooms.log import SYSTEM, lock_room
from workroom.rooms.models import Room

if TYPE_CHECKING:
    from workroom.services import Services, Tx
    from workroom.timers import Timer


def install(services: "Services") -> None:
    async def open_request(tx: "Tx", timer: "Timer") -> tuple[Room, Milestone] | None:
        milestone_id, _ = timer.key.split(":", 1)
        assert timer.room_id is not None
        room = await lock_room(tx, timer.room_id)
        milestone = await tx.session.get(Milestone, milestone_id, populate_existing=True)
        request_key = ":".join(timer.key.split(":")[:2])
        if not release_deadlines.still_open(milestone, request_key) or room.status not in milestones.ESCROW_STATUSES:
            return None
        assert milestone is not None
        return room, milestone

    async def on_overdue(tx: "Tx", timer: "Timer") -> None:
        opened = await open_request(tx, timer)
        if opened is None:
            return
        room, milestone = opened
        assert milestone.release_requested_at is not None
        milestone.overdue = True
        await services.log.append(tx, room, "milestone.overdue", SYSTEM, milestones.money(
            milestone, room, milestone.in_escrow, notify=["client", "freelancer"],
            requested_at=isoformat(milestone.release_requested_at),
            auto_release_at=isoformat(release_deadlines.auto_release_at(services.policy,
                                                                        milestone.release_requested_at))),
            source="system")

    async def on_reminder(tx: "Tx", timer: "Timer") -> None:
        opened = await open_request(tx, timer)
        if opened is None:
            return
        room, milestone = opened
        assert milestone.release_requested_at is not None
        await services.log.append(tx, room, "milestone.release_reminder", SYSTEM, milestones.money(
            milestone, room, milestone.in_escrow, notify=["client"], days_left=timer.payload.get("days"),
            auto_release_at=isoformat(release_deadlines.auto_release_at(services.policy,
                                                                        milestone.release_requested_at))),
            source="system")

    async def on_auto_release(tx: "Tx", timer: "Timer") -> None:
        opened = await open_request(tx, timer)
        if opened is None:
            return
        room, milestone = opened
        await milestones.release_money(tx, services, room, milestone, milestone.in_escrow, SYSTEM,
                                       source="system", reason="auto_release")

    services.timers.handlers[release_deadlines.OVERDUE] = on_overdue
    services.timers.handlers[release_deadlines.REMINDER] = on_reminder
    services.timers.handlers[release_deadlines.AUTO_RELEASE] = on_auto_release
    dormancy.install(services)
    hourly.install(services)
