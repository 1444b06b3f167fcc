"""Moving the test clock past a token's lifetime: the same people sign in again with fresh tokens
(as a browser would), so a test can cross 30, 60 or 90 days."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.people import Api, RoomSetup
from workroom.auth import mint_token


async def advance(api: Api, duration: str, *rooms: RoomSetup) -> dict[str, Any]:
    moved = await api.advance(duration)
    now = api.services.clock.now()
    for room in rooms:
        for person in room.people.values():
            person.token = mint_token(api.services.settings.secret, sub=person.id, email=person.email,
                                      name=person.name, role=person.role, now=now, ttl=timedelta(days=30))
    return moved
