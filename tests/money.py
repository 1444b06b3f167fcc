"""Money for the feedback and support tests: a payment released to the freelancer, the way the
client makes one (billing's public API: fund the next unfunded milestone with a verified method,
then release `amount` of it)."""

from __future__ import annotations

from typing import Any

from tests.billing_steps import milestones, ok
from tests.people import Api, RoomSetup


async def release_payment(api: Api, room: RoomSetup, amount: int) -> dict[str, Any]:
    unfunded = [m for m in (await milestones(api, room)).values() if m["state"] == "not_funded"]
    assert unfunded, "the room has no milestone left to pay"
    milestone = min(unfunded, key=lambda m: m["position"])
    assert amount <= milestone["amount"]
    await ok(api, room, room["client"], milestone["id"], "fund", payment_method="verified")
    return await ok(api, room, room["client"], milestone["id"], "release", amount=amount)
