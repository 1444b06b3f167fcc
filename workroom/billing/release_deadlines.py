"""The deadlines of one release request: overdue (day 15), the client's reminders as the
auto-release nears, and the auto-release itself (day 30). Each timer is keyed by the milestone and
the request's number, so a voided, released, refunded or disputed request leaves only stale timers
behind; their handlers (billing/timers.py) re-check and do nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from workroom.billing.models import Milestone
from workroom.policy import Policy

if TYPE_CHECKING:
    from workroom.services import Services, Tx

OVERDUE = "billing.release_overdue"
REMINDER = "billing.release_reminder"
AUTO_RELEASE = "billing.auto_release"


def request_key(milestone: Milestone) -> str:
    return f"{milestone.id}:{milestone.release_requests}"


def overdue_at(policy: Policy, requested_at: datetime) -> datetime:
    return requested_at + policy.release_overdue_after


def auto_release_at(policy: Policy, requested_at: datetime) -> datetime:
    return requested_at + policy.auto_release_after


def reminder_times(policy: Policy, requested_at: datetime) -> list[tuple[int, datetime]]:
    """(days left, when) for each reminder the client gets before the auto-release, after overdue."""
    auto, overdue = auto_release_at(policy, requested_at), overdue_at(policy, requested_at)
    return [(days, auto - timedelta(days=days)) for days in policy.release_reminder_days_before_auto
            if auto - timedelta(days=days) > overdue]


async def schedule(tx: "Tx", services: "Services", milestone: Milestone) -> None:
    assert milestone.release_requested_at is not None
    policy, key, at = services.policy, request_key(milestone), milestone.release_requested_at
    room_id = milestone.room_id
    await services.timers.schedule(tx, OVERDUE, key, overdue_at(policy, at), room_id=room_id)
    for days, when in reminder_times(policy, at):
        await services.timers.schedule(tx, REMINDER, f"{key}:{days}", when, room_id=room_id, payload={"days": days})
    await services.timers.schedule(tx, AUTO_RELEASE, key, auto_release_at(policy, at), room_id=room_id)


async def cancel(tx: "Tx", services: "Services", milestone: Milestone) -> None:
    """The request ended (voided, released, refunded, disputed): its timers will never fire."""
    key = request_key(milestone)
    await services.timers.cancel(tx, OVERDUE, key)
    for days in services.policy.release_reminder_days_before_auto:
        await services.timers.cancel(tx, REMINDER, f"{key}:{days}")
    await services.timers.cancel(tx, AUTO_RELEASE, key)


def still_open(milestone: Milestone | None, key: str) -> bool:
    """Whether the request a timer was set for is still awaiting the client."""
    return milestone is not None and milestone.state == "release_requested" and request_key(milestone) == key
