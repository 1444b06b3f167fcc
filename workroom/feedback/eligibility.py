"""When feedback may be given, as pure functions of the policy, the clock and the contract's
facts, so each rule is written once and tested at its edges.

Every window counts exact elapsed time from the moment named in the rule, and "within N days"
includes the N-th day's moment itself: on day 60 after completion feedback is still open, on
day 61 it is not; a contract is 30 days old on day 30; a payment 30 days ago is "in the previous
30 days", one 31 days ago is not; feedback given 29 days ago blocks mid-contract feedback, 30 days
ago no longer does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from workroom.policy import Policy


@dataclass(frozen=True)
class Unmet:
    """One rule that does not hold, with the code the API answers and a sentence for people."""

    code: str
    message: str

    def public(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def final_feedback_unmet(policy: Policy, now: datetime, ended_at: datetime | None,
                         payment_times: Iterable[datetime]) -> list[Unmet]:
    """End-of-job feedback: the job has ended (marked complete, or cancelled), a payment was
    released, the window is open."""
    unmet = []
    if ended_at is None:
        unmet.append(Unmet("not_complete", "End-of-job feedback opens when the job is marked complete."))
    elif now > ended_at + policy.feedback_window:
        unmet.append(Unmet("feedback_window_closed", f"Feedback closes {policy.feedback_window.days} days "
                                                     "after the job ends (marked complete or cancelled)."))
    if not any(True for _ in payment_times):
        unmet.append(Unmet("no_payment_released", "Feedback opens once a payment has been released on the job."))
    return unmet


def mid_contract_unmet(policy: Policy, now: datetime, started_at: datetime | None,
                       payment_times: Iterable[datetime], last_feedback_at: datetime | None) -> list[Unmet]:
    """The three rules for mid-contract feedback (and for the freelancer's request of it)."""
    unmet = []
    if started_at is None or now - started_at < policy.mid_feedback_min_contract_age:
        unmet.append(Unmet("contract_too_new", f"Mid-contract feedback needs the contract to have run "
                                               f"{policy.mid_feedback_min_contract_age.days} days."))
    if not any(now - paid_at <= policy.mid_feedback_payment_within for paid_at in payment_times):
        unmet.append(Unmet("no_recent_payment", f"Mid-contract feedback needs a payment in the previous "
                                                f"{policy.mid_feedback_payment_within.days} days."))
    if last_feedback_at is not None and now - last_feedback_at < policy.mid_feedback_min_gap:
        unmet.append(Unmet("feedback_too_recent", f"Feedback was given less than "
                                                  f"{policy.mid_feedback_min_gap.days} days ago."))
    return unmet


def request_open(policy: Policy, now: datetime, requested_at: datetime) -> bool:
    """A request is open through the last moment of its window (`requested_at` + 14 days)."""
    return now <= requested_at + policy.feedback_request_expires_after
