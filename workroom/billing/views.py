"""What the API shows of a milestone: its terms, state, money and the open request's deadlines."""

from __future__ import annotations

from typing import Any

from workroom.billing import release_deadlines
from workroom.billing.models import Milestone
from workroom.clock import isoformat
from workroom.policy import Policy


def milestone_view(milestone: Milestone, policy: Policy) -> dict[str, Any]:
    view: dict[str, Any] = dict(milestone.public())
    requested = milestone.release_requested_at
    view.update({
        "funded_amount": milestone.funded_amount, "released_amount": milestone.released_amount,
        "refunded_amount": milestone.refunded_amount, "in_escrow": milestone.in_escrow,
        "payment": milestone.payment_id, "invoice": milestone.invoice_id, "overdue": milestone.overdue,
        "release_requested_at": isoformat(requested) if requested else None,
        "deadlines": {
            "overdue_at": isoformat(release_deadlines.overdue_at(policy, requested)),
            "auto_release_at": isoformat(release_deadlines.auto_release_at(policy, requested)),
        } if requested else None,
    })
    return view
