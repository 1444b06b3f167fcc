"""Every milestone action from every state by every role: allowed ones succeed and land in the
expected state; refused ones answer 403 (wrong role) or 409 (wrong state) with a clear code and
change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.billing_steps import act, bring_to, ledger, milestones
from tests.people import Api

STATES = ("not_funded", "funding_requested", "pending", "funded", "release_requested", "disputed",
          "released", "refunded")
ROLES = ("client", "freelancer", "team", "guest", "support")
HOLDING = ("funded", "release_requested", "disputed")

# action -> role -> states it may act from
ALLOWED: dict[str, dict[str, tuple[str, ...]]] = {
    "request-funding": {"freelancer": ("not_funded",)},
    "fund": {"client": ("not_funded", "funding_requested")},
    "request-release": {"freelancer": ("funded",)},
    "void-release": {"freelancer": ("release_requested",)},
    "release": {"client": HOLDING, "support": ("disputed",)},
    "dispute": {"client": ("funded", "release_requested"), "freelancer": ("funded", "release_requested")},
    "refund": {"freelancer": HOLDING, "support": ("disputed",)},
}
BODIES = {"fund": {"payment_method": "verified"}, "dispute": {"reason": "late"}, "refund": {"reason": "agreed"}}
# where an allowed action leaves the milestone (full amounts)
AFTER = {"request-funding": "funding_requested", "fund": "funded", "request-release": "release_requested",
         "void-release": "funded", "release": "released", "dispute": "disputed", "refund": "refunded"}
# the roles that may do an action at all, from some state (others get role_not_allowed)
ACTION_ROLES = {action: tuple(roles) for action, roles in ALLOWED.items()}


def expected_refusal(action: str, role: str, state: str) -> tuple[int, str]:
    roles = ACTION_ROLES[action]
    if role == "support" and action in ("release", "refund"):
        return 403, "support_settles_disputes"
    if role not in roles:
        return 403, "role_not_allowed"
    codes = {"disputed": "milestone_disputed", "released": "already_released", "refunded": "already_refunded"}
    if action == "request-release" and state == "release_requested":
        return 409, "release_already_requested"
    if action == "dispute" and state == "disputed":
        return 409, "already_disputed"
    if action == "void-release" and state not in ("disputed", "released", "refunded"):
        return 409, "no_release_request"
    return 409, codes.get(state, "invalid_milestone_state")


@pytest.mark.parametrize("state", STATES)
async def test_every_action_by_every_role_from(state: str, api: Api) -> None:
    allowed = [(action, role) for action, roles in ALLOWED.items() for role, states in roles.items()
               if state in states]
    milestones_spec = [{"title": f"M{i}", "amount": 10000 + i, "due_date": "2026-04-01"}
                       for i in range(len(allowed) + 1)]
    room = await api.room(milestones=milestones_spec, team=True, guest_for=timedelta(days=90), support=True)
    ids = [m["id"] for m in room.milestones]
    for milestone in ids:
        await bring_to(api, room, milestone, state)
    before = await ledger(api, room)
    refused_on = ids[0]
    for action in ALLOWED:
        for role in ROLES:
            if (action, role) in allowed:
                continue
            response = await act(api, room, room[role], refused_on, action, **BODIES.get(action, {}))
            status, code = expected_refusal(action, role, state)
            assert (response.status_code, response.json()["error"]["code"]) == (status, code), \
                f"{role} {action} from {state}: {response.status_code} {response.text}"
    assert await ledger(api, room) == before  # refusals moved nothing
    assert (await milestones(api, room))[refused_on]["state"] == state
    for (action, role), milestone in zip(allowed, ids[1:]):
        response = await act(api, room, room[role], milestone, action, **BODIES.get(action, {}))
        assert response.status_code == 201, f"{role} {action} from {state}: {response.text}"
        assert (await milestones(api, room))[milestone]["state"] == AFTER[action], f"{role} {action} from {state}"


async def test_money_actions_refused_on_hourly_and_proposal_jobs(api: Api) -> None:
    hourly = await api.room(kind="hourly")
    response = await api.call("POST", f"/api/rooms/{hourly.id}/milestones/m_x/fund", hourly["client"], json={})
    assert (response.status_code, response.json()["error"]["code"]) == (409, "not_fixed_price")
    proposal = await api.room(status="proposal")
    m = proposal.milestones[0]["id"]
    response = await act(api, proposal, proposal["client"], m, "fund")
    assert (response.status_code, response.json()["error"]["code"]) == (409, "job_not_active")
    unknown = await act(api, proposal, proposal["client"], "m_nope", "fund")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "milestone_not_found")
    stranger = api.person("stranger@example.com")
    hidden = await act(api, proposal, stranger, m, "fund")
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "room_not_found"
