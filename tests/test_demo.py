"""`workroom demo`: one fixed-price room with every kind of member, and a working link for each."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import httpx

from workroom.demo import PEOPLE, demo_exists, demo_links, seed_demo
from workroom.services import Services


async def test_demo_room_and_login_links(services: Services, http: httpx.AsyncClient) -> None:
    assert not await demo_exists(services)
    room_id = await seed_demo(services)
    assert await demo_exists(services)
    links = await demo_links(services)
    assert [link.role for link in links] == list(PEOPLE)
    for link in links:
        token = parse_qs(urlparse(link.url).query)["token"][0]
        response = await http.get(f"/api/rooms/{room_id}", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, (link.role, response.text)
        view = response.json()
        assert view["me"]["role"] == link.role
    assert sorted(m["role"] for m in view["members"]) == sorted(PEOPLE)
    assert view["kind"] == "fixed" and len(view["terms"]["milestones"]) == 2
    events = (await http.get(f"/api/rooms/{room_id}/events", headers={"Authorization": f"Bearer {token}"})).json()
    types = [e["type"] for e in events["events"]]
    assert types.count("message.posted") >= 3 and "support.joined" in types
