"""Dormant escrow (rules/escrow.md, "Dormant escrow").

A fixed-price job with money in escrow becomes dormant when there has been no activity for
`policy.dormant_after_last_milestone` (60 days) after the last milestone date in its terms (or
after the last activity, when that is later). On the dormant date the client is notified; if no
activity other than release requests follows within 7 days the freelancer is notified; if none
follows within a further 7 days (14 in all) the escrow is settled: requests 30 days old or more are
released at once, younger requests are released 30 days after they were made (their own
auto-release timer), and milestones with no request are refunded. Disputed milestones stay frozen.

Activity is a room event of the types below by a person (not the system's own automatic
releases and refunds), recorded by a room-log write with the event that is it. Release requests never count: the procedure exists to settle escrow whose client has
gone quiet, and a freelancer asking again and again must not keep the money frozen (the rules'
own outcomes presuppose requests younger than 30 days on day 74). During dormancy, the activity
that leaves it (a terms change request or acceptance, a release, a cancellation request) starts
the 60 days afresh; any other activity restarts the 7-day wait of the current step.

One timer per room (`billing.dormancy`, keyed by the room) walks the steps; it re-reads the state
each time it fires and moves itself to the next date."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, String, bindparam, func, select, update

from workroom.billing import ledger, milestones
from workroom.billing.models import EscrowWatch, Milestone
from workroom.clock import isoformat
from workroom.rooms.log import SYSTEM, EventWrite, StoredEvent, lock_room
from workroom.rooms.models import Room

from workroom.timers import Timer

if TYPE_CHECKING:
    from workroom.services import Services, Tx

TIMER = "billing.dormancy"

ACTIVITY = frozenset({
    "terms.proposed", "terms.accepted", "milestone.funding_requested", "milestone.funded",
    "milestone.released", "milestone.refunded", "job.cancellation_requested", "timesheet.submitted",
    "status_report.submitted", "milestone.disputed", "job.cancellation_rejected",
})
DISPUTE_STEP_PREFIXES = ("case.", "dispute.")  # support's dispute assistance, any step
LEAVES_DORMANCY = frozenset({"terms.proposed", "terms.accepted", "milestone.released", "job.cancellation_requested"})


def is_activity(actor_id: str, event_type: str) -> bool:
    """Only people's actions are activity: the system's automatic releases and refunds are not."""
    return actor_id != SYSTEM.id and (event_type in ACTIVITY or event_type.startswith(DISPUTE_STEP_PREFIXES))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=timezone.utc)


async def dormant_date(tx: "Tx", services: "Services", room_id: str, watch: EscrowWatch) -> datetime | None:
    """When the job turns dormant if nothing else happens."""
    last_due = await tx.session.scalar(select(func.max(Milestone.due_date))
                                       .where(Milestone.room_id == room_id, Milestone.state != "removed"))
    anchors = [t for t in (_midnight(last_due) if last_due else None, watch.last_activity_at) if t is not None]
    if not anchors:
        return None
    return max(anchors) + services.policy.dormant_after_last_milestone


_watch = EscrowWatch.__table__
# Every person's activity is recorded with its event, in the event's own round trip (an EventWrite);
# the stage it returns says whether there is more to do. Only fixed-price rooms have a watch. Whether
# the event is a person's activity is decided in Python (`is_activity`) and passed in as one parameter.
TOUCH = (update(_watch)
         .where(_watch.c.room_id == bindparam("event_room_id", type_=String()),
                bindparam("watch_activity", type_=Boolean()))
         .values(last_activity_at=bindparam("event_at", type_=_watch.c.last_activity_at.type))
         .returning(_watch.c.stage, _watch.c.stage_at))


async def arm(tx: "Tx", services: "Services", room_id: str, due: datetime) -> None:
    """Keep exactly one pending dormancy timer for the room, due at `due`. Keys carry the due time
    because a firing timer cannot move itself (the worker marks it fired after its handler)."""
    key = f"{room_id}@{isoformat(due)}"
    pending = await tx.session.scalars(select(Timer.key).where(
        Timer.kind == TIMER, Timer.room_id == room_id, Timer.fired_at.is_(None), Timer.cancelled_at.is_(None)))
    for stale in pending.all():
        if stale != key:
            await services.timers.cancel(tx, TIMER, stale)
    await services.timers.schedule(tx, TIMER, key, due, room_id=room_id)


def install(services: "Services") -> None:
    policy = services.policy
    step = policy.dormant_freelancer_notice_after
    settle_step = policy.dormant_settle_after - policy.dormant_freelancer_notice_after

    def activity(row: dict[str, Any]) -> dict[str, Any]:
        return {"watch_activity": is_activity(row["actor_id"], row["type"])}

    async def on_touched(tx: "Tx", room: Room, event: StoredEvent, touched: dict[str, Any] | None) -> None:
        if room.kind != "fixed" or not is_activity(event.actor_id, event.type):
            return
        # The common case needs nothing else: the room is active with its check armed (activity only
        # moves the dormant date later, and the armed check re-computes it when it fires). A terms
        # change may move the last milestone date earlier: it always re-arms.
        if (touched is not None and touched["stage"] == "active" and touched["stage_at"] is not None
                and not event.type.startswith("terms.")):
            return
        watch = await tx.session.get(EscrowWatch, room.id, populate_existing=True)
        if watch is None:
            watch = EscrowWatch(room_id=room.id, stage="active", last_activity_at=tx.now)
            tx.session.add(watch)
        if watch.stage != "active" and event.type not in LEAVES_DORMANCY:
            watch.stage_at = tx.now  # still dormant: this step's 7-day wait starts again
            await arm(tx, services, room.id, tx.now + (step if watch.stage == "dormant" else settle_step))
            return
        leaving = watch.stage != "active"
        watch.stage = "active"
        # In the active stage `stage_at` is when the armed check fires. Activity only moves the
        # dormant date later, so an armed check stays correct: it re-computes and moves itself.
        # Leaving dormancy or a terms change (the last milestone date may move earlier) re-arms.
        if leaving or watch.stage_at is None or event.type.startswith("terms."):
            due = await dormant_date(tx, services, room.id, watch)
            watch.stage_at = due
            if due is not None:
                await arm(tx, services, room.id, due)

    async def on_timer(tx: "Tx", timer: "Timer") -> None:
        assert timer.room_id is not None
        room = await lock_room(tx, timer.room_id)
        watch = await tx.session.get(EscrowWatch, room.id, populate_existing=True)
        if watch is None:
            return
        in_escrow = await ledger.escrow_total(tx.session, room.id)
        if in_escrow == 0 or room.status not in milestones.ESCROW_STATUSES:
            watch.stage, watch.stage_at = "active", None  # nothing to watch until money is funded again
            return
        if watch.stage == "active":
            due = await dormant_date(tx, services, room.id, watch)
            if due is None:
                return
            if tx.now < due:
                watch.stage_at = due
                await arm(tx, services, room.id, due)
                return
            watch.stage, watch.stage_at = "dormant", due
            await services.log.append(tx, room, "escrow.dormant", SYSTEM, {
                "in_escrow": in_escrow, "currency": room.currency, "notify": ["client"],
                "freelancer_notice_at": isoformat(due + step)}, source="system")
            await arm(tx, services, room.id, due + step)
            return
        assert watch.stage_at is not None
        if watch.stage == "dormant":
            due = watch.stage_at + step
            if tx.now < due:
                await arm(tx, services, room.id, due)
                return
            watch.stage, watch.stage_at = "freelancer_notified", due
            await services.log.append(tx, room, "escrow.dormancy_notice", SYSTEM, {
                "in_escrow": in_escrow, "currency": room.currency, "notify": ["freelancer"],
                "settles_at": isoformat(due + settle_step)}, source="system")
            await arm(tx, services, room.id, due + settle_step)
            return
        due = watch.stage_at + settle_step
        if tx.now < due:
            await arm(tx, services, room.id, due)
            return
        await settle(tx, services, room)
        watch.stage, watch.last_activity_at = "active", tx.now
        watch.stage_at = await dormant_date(tx, services, room.id, watch)  # younger requests may remain
        if watch.stage_at is not None:
            await arm(tx, services, room.id, watch.stage_at)

    services.log.add_write(EventWrite(TOUCH, activity, on_touched))
    services.timers.handlers[TIMER] = on_timer


async def settle(tx: "Tx", services: "Services", room: Room) -> None:
    """The three outcomes, one room event per milestone that moves."""
    rows = await tx.session.scalars(select(Milestone).where(Milestone.room_id == room.id)
                                    .order_by(Milestone.position).execution_options(populate_existing=True))
    plan = []
    for milestone in rows.all():
        if milestone.in_escrow <= 0 or milestone.state not in ("funded", "release_requested"):
            continue
        if milestone.state == "release_requested":
            assert milestone.release_requested_at is not None
            if tx.now - milestone.release_requested_at >= services.policy.auto_release_after:
                plan.append((milestone, "release"))
            else:
                plan.append((milestone, "release_later"))
        else:
            plan.append((milestone, "refund"))
    await services.log.append(tx, room, "escrow.dormancy_settled", SYSTEM, {
        "currency": room.currency,
        "outcomes": [{"milestone": m.id, "title": m.title, "amount": m.in_escrow, "outcome": outcome}
                     for m, outcome in plan]}, source="system")
    for milestone, outcome in plan:
        if outcome == "release":
            await milestones.release_money(tx, services, room, milestone, milestone.in_escrow, SYSTEM,
                                           source="system", reason="dormancy")
        elif outcome == "refund":
            await milestones.refund_money(tx, services, room, milestone, milestone.in_escrow, SYSTEM,
                                          source="system", reason="dormancy")
