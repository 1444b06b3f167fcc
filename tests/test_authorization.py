"""Every role against every room endpoint: who may, who gets 403, and who learns nothing (404/401)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable

import jwt
import pytest

from tests.people import Api, Person, RoomSetup

ROLES = ["client", "freelancer", "team", "guest", "expired_guest", "support", "stranger",
         "no_token", "bad_signature", "expired_token"]
MEMBERS = {"client", "freelancer", "team", "guest", "support"}


@dataclass
class Endpoint:
    name: str
    method: str
    path: Callable[[RoomSetup], str]
    body: Callable[[RoomSetup, str], dict[str, Any] | None] = lambda room, role: None
    allowed: frozenset[str] = frozenset(MEMBERS)
    changes_state: bool = False  # one success per room: each allowed role gets its own room


ENDPOINTS = [
    Endpoint("get room", "GET", lambda r: f"/api/rooms/{r.id}"),
    Endpoint("events", "GET", lambda r: f"/api/rooms/{r.id}/events"),
    Endpoint("export", "GET", lambda r: f"/api/rooms/{r.id}/export"),
    Endpoint("post message", "POST", lambda r: f"/api/rooms/{r.id}/messages", lambda r, role: {"body": "hello"}),
    Endpoint("read", "POST", lambda r: f"/api/rooms/{r.id}/read", lambda r, role: {"seq": 1}),
    Endpoint("mail settings", "PATCH", lambda r: f"/api/rooms/{r.id}/members/me",
             lambda r, role: {"email_notifications": False}),
    Endpoint("meeting", "POST", lambda r: f"/api/rooms/{r.id}/meetings",
             lambda r, role: {"invitee": r["freelancer" if role == "client" else "client"].id}),
    Endpoint("status report", "POST", lambda r: f"/api/rooms/{r.id}/status-reports",
             lambda r, role: {"summary": "week 1", "milestones": [{"id": r.milestones[0]["id"], "percent_complete": 40}]},
             allowed=frozenset({"freelancer"})),
    Endpoint("add member", "POST", lambda r: f"/api/rooms/{r.id}/members",
             lambda r, role: {"email": "new-team@example.com", "name": "New", "role": "team"},
             allowed=frozenset({"client"}), changes_state=True),
    Endpoint("complete", "POST", lambda r: f"/api/rooms/{r.id}/complete",
             allowed=frozenset({"client", "freelancer"}), changes_state=True),
    Endpoint("archive", "POST", lambda r: "/api/rooms/archive", lambda r, role: {"rooms": [r.id]}),
]


async def _setup(api: Api) -> tuple[RoomSetup, dict[str, Person | None]]:
    room = await api.room(team=True, guest_for=timedelta(days=10), support=True)
    expired_guest = await api._add(room, "guest", timedelta(hours=1))
    stranger = api.person("stranger@example.com", "Stranger")
    await api.me(stranger)
    short_lived = api.person(room["client"].email, "Claire Client", ttl=timedelta(minutes=30))
    forged = api.person(room["client"].email, "Claire Client")
    forged.token = jwt.encode(jwt.decode(forged.token, options={"verify_signature": False}), "not-the-secret-" * 3,
                              algorithm="HS256")
    await api.advance("PT2H")  # the expired guest's access and the short-lived token both end
    people: dict[str, Person | None] = {
        "client": room["client"], "freelancer": room["freelancer"], "team": room["team"], "guest": room["guest"],
        "support": room["support"], "expired_guest": expired_guest, "stranger": stranger, "no_token": None,
        "bad_signature": forged, "expired_token": short_lived,
    }
    return room, people


def _expected(endpoint: Endpoint, role: str) -> int | tuple[int, ...]:
    if role in ("no_token", "bad_signature", "expired_token"):
        return 401
    if role == "stranger":
        return 404
    if role == "expired_guest":
        return 403
    if role in endpoint.allowed:
        return (200, 201)
    return 403


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
async def test_authorization_matrix(api: Api, endpoint: Endpoint) -> None:
    room, people = await _setup(api)
    denied = [r for r in ROLES if r not in endpoint.allowed]
    for role in denied + sorted(endpoint.allowed):
        target = room
        if endpoint.changes_state and role in endpoint.allowed and role != sorted(endpoint.allowed)[0]:
            target, people = await _setup(api)
        response = await api.call(endpoint.method, endpoint.path(target), people[role], json=endpoint.body(target, role))
        expected = _expected(endpoint, role)
        allowed = expected if isinstance(expected, tuple) else (expected,)
        assert response.status_code in allowed, f"{endpoint.name} as {role}: {response.status_code} {response.text}"
        if response.status_code >= 400:
            error = response.json()["error"]
            assert error["code"] and error["message"]
            if role == "stranger":
                assert error["code"] == "room_not_found"


async def test_a_strangers_404_is_the_same_as_for_a_room_that_does_not_exist(api: Api) -> None:
    room = await api.room()
    stranger = api.person("nosy@example.com")
    hidden = await api.call("GET", f"/api/rooms/{room.id}", stranger)
    missing = await api.call("GET", "/api/rooms/r_doesnotexist", stranger)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    hidden_events = await api.call("GET", f"/api/rooms/{room.id}/events", stranger)
    missing_events = await api.call("GET", "/api/rooms/r_doesnotexist/events", stranger)
    assert hidden_events.json() == missing_events.json()


async def test_creating_rooms_needs_the_service_token(api: Api) -> None:
    person = api.person("someone@example.com")
    response = await api.call("POST", "/api/rooms", person, json={"title": "x"})
    assert response.status_code == 403 and response.json()["error"]["code"] == "service_only"


async def test_support_must_join_openly_before_reading(api: Api) -> None:
    room = await api.room()
    agent = api.person("agent@support.example", "Sam Support", "support")
    assert (await api.call("GET", f"/api/rooms/{room.id}/events", agent)).status_code == 404
    joined = await api.ok("POST", f"/api/rooms/{room.id}/support/join", agent)
    assert joined["type"] == "support.joined" and joined["actor"]["role"] == "support"
    events = await api.events(room, room["client"])
    assert events[-1]["type"] == "support.joined"
    post = await api.post(room, agent, "Hello from support")
    assert post["actor"]["role"] == "support"
    again = await api.call("POST", f"/api/rooms/{room.id}/support/join", agent)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_joined"
    member = api.person("member@example.com")
    refused = await api.call("POST", f"/api/rooms/{room.id}/support/join", member)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "support_only"
