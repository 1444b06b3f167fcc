"""People for tests: real signed tokens for a client, a freelancer, a team member, a guest, an
agent, a stranger and the marketplace, and a room set up the way the marketplace would."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx

from workroom.auth import mint_token
from workroom.ids import new_id
from workroom.services import Services


@dataclass
class Person:
    email: str
    name: str
    role: str
    token: str
    id: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class RoomSetup:
    id: str
    view: dict[str, Any]
    people: dict[str, Person] = field(default_factory=dict)

    def __getitem__(self, role: str) -> Person:
        return self.people[role]

    @property
    def milestones(self) -> list[dict[str, Any]]:
        return self.view["terms"]["milestones"]  # type: ignore[no-any-return]


class Api:
    def __init__(self, http: httpx.AsyncClient, services: Services) -> None:
        self.http = http
        self.services = services

    def person(self, email: str, name: str | None = None, role: str = "member", *,
               ttl: timedelta = timedelta(days=30)) -> Person:
        token = mint_token(self.services.settings.secret, sub=new_id("a"), email=email, name=name or email.split("@")[0],
                           role=role, now=self.services.clock.now(), ttl=ttl)
        return Person(email=email, name=name or email.split("@")[0], role=role, token=token)

    @property
    def marketplace(self) -> Person:
        return self.person("market@marketplace.example", "Marketplace", "service")

    async def call(self, method: str, path: str, who: Person | None = None, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if who is not None:
            headers.update(who.headers)
        return await self.http.request(method, path, headers=headers, **kwargs)

    async def ok(self, method: str, path: str, who: Person | None = None, status: int | tuple[int, ...] = (200, 201),
                 **kwargs: Any) -> Any:
        response = await self.call(method, path, who, **kwargs)
        expected = (status,) if isinstance(status, int) else status
        assert response.status_code in expected, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()

    async def me(self, who: Person) -> str:
        who.id = (await self.ok("GET", "/api/me", who))["id"]
        return who.id

    async def room(self, *, kind: str = "fixed", status: str = "working", milestones: list[dict[str, Any]] | None = None,
                   team: bool = False, guest_for: timedelta | None = None, support: bool = False,
                   **extra: Any) -> RoomSetup:
        suffix = new_id("p").lower()
        client = self.person(f"client-{suffix}@example.com", "Claire Client")
        freelancer = self.person(f"free-{suffix}@example.com", "Fred Freelancer")
        body: dict[str, Any] = {
            "title": "Logo redesign", "kind": kind, "currency": "USD", "status": status,
            "client": {"email": client.email, "name": client.name},
            "freelancer": {"email": freelancer.email, "name": freelancer.name},
            "milestones": milestones if milestones is not None else (
                [] if kind == "hourly" else [{"title": "Concepts", "amount": 30000, "due_date": "2026-03-20"},
                                             {"title": "Final art", "amount": 70000, "due_date": "2026-04-10"}]),
            **extra,
        }
        if kind == "hourly":
            body.setdefault("hourly_rate", 5000)
            body.setdefault("weekly_limit_hours", 20)
        view = await self.ok("POST", "/api/rooms", self.marketplace, json=body)
        setup = RoomSetup(id=view["id"], view=view, people={"client": client, "freelancer": freelancer})
        for person in (client, freelancer):
            await self.me(person)
        if team:
            setup.people["team"] = await self._add(setup, "team", None)
        if guest_for is not None:
            setup.people["guest"] = await self._add(setup, "guest", guest_for)
        if support:
            agent = self.person(f"agent-{suffix}@support.example", "Sam Support", "support")
            await self.ok("POST", f"/api/rooms/{setup.id}/support/join", agent)
            await self.me(agent)
            setup.people["support"] = agent
        return setup

    async def _add(self, setup: RoomSetup, role: str, expires_in: timedelta | None) -> Person:
        person = self.person(f"{role}-{new_id('p').lower()}@example.com", f"{role.title()} Person")
        body: dict[str, Any] = {"email": person.email, "name": person.name, "role": role}
        if expires_in is not None:
            body["expires_at"] = (self.services.clock.now() + expires_in).isoformat()
        await self.ok("POST", f"/api/rooms/{setup.id}/members", setup["client"], json=body)
        await self.me(person)
        return person

    async def post(self, setup: RoomSetup, who: Person, body: str, **extra: Any) -> dict[str, Any]:
        return await self.ok("POST", f"/api/rooms/{setup.id}/messages", who, json={"body": body, **extra})  # type: ignore[no-any-return]

    async def events(self, setup: RoomSetup, who: Person, since: int = 0) -> list[dict[str, Any]]:
        return (await self.ok("GET", f"/api/rooms/{setup.id}/events?since={since}&limit=500", who))["events"]  # type: ignore[no-any-return]

    async def advance(self, duration: str) -> dict[str, Any]:
        return await self.ok("POST", "/api/test-clock", json={"advance": duration})  # type: ignore[no-any-return]
