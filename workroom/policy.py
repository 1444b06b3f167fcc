"""Every number the product rules name, in one table. The default preset is the rules' values
(`shared/rules/`); `marketplace-2026` is today's common marketplace terms. Chosen by WORKROOM_POLICY."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta


@dataclass(frozen=True)
class Policy:
    name: str
    # escrow.md
    release_overdue_after: timedelta = timedelta(days=15)
    release_reminder_days_before_auto: tuple[int, ...] = (7, 3, 1)
    auto_release_after: timedelta = timedelta(days=30)
    dormant_after_last_milestone: timedelta = timedelta(days=60)
    dormant_freelancer_notice_after: timedelta = timedelta(days=7)
    dormant_settle_after: timedelta = timedelta(days=14)
    service_fee_percent: int = 10
    # contract.md
    reopen_within: timedelta = timedelta(days=14)
    # feedback.md
    feedback_window: timedelta = timedelta(days=60)
    mid_feedback_min_contract_age: timedelta = timedelta(days=30)
    mid_feedback_payment_within: timedelta = timedelta(days=30)
    mid_feedback_min_gap: timedelta = timedelta(days=30)
    feedback_request_expires_after: timedelta = timedelta(days=14)
    # support.md
    outreach_window: timedelta = timedelta(hours=48)
    courtesy_credit_percent: int = 5
    second_approval_over_disputed: int = 25_000  # minor units: $250.00
    # hourly.md
    hourly_week_days: int = 7


DEFAULT = Policy(name="default")
MARKETPLACE_2026 = replace(
    DEFAULT,
    name="marketplace-2026",
    auto_release_after=timedelta(days=14),
    release_overdue_after=timedelta(days=7),
    release_reminder_days_before_auto=(3, 1),
    dormant_after_last_milestone=timedelta(days=90),
    feedback_window=timedelta(days=14),
)
PRESETS = {p.name: p for p in (DEFAULT, MARKETPLACE_2026)}


def policy_named(name: str) -> Policy:
    return PRESETS[name]
