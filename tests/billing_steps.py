"""Billing steps for tests, spoken through the public HTTP API as the people in the room."""

from __future__ import annotations

from typing import Any

import httpx

from tests.people import Api, Person, RoomSetup


async def act(api: Api, room: RoomSetup, who: Person, milestone: str, action: str, **body: Any) -> httpx.Response:
    headers = {"Idempotency-Key": body.pop("key")} if "key" in body else {}
    return await api.call("POST", f"/api/rooms/{room.id}/milestones/{milestone}/{action}", who, json=body,
                          headers=headers)


async def ok(api: Api, room: RoomSetup, who: Person, milestone: str, action: str, **body: Any) -> dict[str, Any]:
    response = await act(api, room, who, milestone, action, **body)
    assert response.status_code in (200, 201), f"{action}: {response.status_code} {response.text}"
    return response.json()  # type: ignore[no-any-return]


async def milestones(api: Api, room: RoomSetup) -> dict[str, dict[str, Any]]:
    view = await api.ok("GET", f"/api/rooms/{room.id}/milestones", room["client"])
    return {m["id"]: m for m in view["milestones"]}


async def state(api: Api, room: RoomSetup, milestone: str) -> str:
    return (await milestones(api, room))[milestone]["state"]  # type: ignore[no-any-return]


async def bring_to(api: Api, room: RoomSetup, milestone: str, target: str) -> None:
    """Move a fresh milestone to `target` the way people would."""
    client, freelancer = room["client"], room["freelancer"]
    if target == "not_funded":
        return
    if target == "funding_requested":
        await ok(api, room, freelancer, milestone, "request-funding")
        return
    if target == "pending":
        await ok(api, room, client, milestone, "fund", payment_method="unverified")
        return
    await ok(api, room, client, milestone, "fund", payment_method="verified")
    if target == "release_requested":
        await ok(api, room, freelancer, milestone, "request-release")
    elif target == "disputed":
        await ok(api, room, client, milestone, "dispute", reason="Not what we agreed")
    elif target == "released":
        await ok(api, room, client, milestone, "release")
    elif target == "refunded":
        await ok(api, room, freelancer, milestone, "refund", reason="Could not finish")
    assert await state(api, room, milestone) == target


async def ledger(api: Api, room: RoomSetup) -> dict[str, Any]:
    return await api.ok("GET", f"/api/rooms/{room.id}/ledger", room["client"])  # type: ignore[no-any-return]


async def types(api: Api, room: RoomSetup, since: int = 0) -> list[str]:
    return [e["type"] for e in await api.events(room, room["client"], since)]


def fresh_tokens(api: Api, room: RoomSetup) -> None:
    """Tokens last 30 days; after moving the clock further, sign everyone in again."""
    for role, person in list(room.people.items()):
        renewed = api.person(person.email, person.name, person.role)
        renewed.id = person.id
        room.people[role] = renewed


async def advance(api: Api, room: RoomSetup, duration: str) -> None:
    await api.advance(duration)
    fresh_tokens(api, room)
