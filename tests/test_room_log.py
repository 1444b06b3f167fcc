"""The room log: gapless per-room seq under concurrency, idempotent writes, live publishing."""

from __future__ import annotations

import asyncio
import json

from tests.people import Api
from workroom.channels.broker import room_channel
from workroom.services import Services


async def test_a_repeated_client_id_returns_the_first_event_and_stores_nothing(api: Api) -> None:
    room = await api.room()
    first = await api.post(room, room["client"], "Invoice attached", client_id="c-1")
    again = await api.call("POST", f"/api/rooms/{room.id}/messages", room["client"],
                           json={"body": "Invoice attached (retry)", "client_id": "c-1"})
    assert again.status_code == 200
    assert again.json() == first
    by_header = await api.call("POST", f"/api/rooms/{room.id}/messages", room["client"],
                               json={"body": "by header"}, headers={"Idempotency-Key": "k-9"})
    repeat = await api.call("POST", f"/api/rooms/{room.id}/messages", room["client"],
                            json={"body": "by header"}, headers={"Idempotency-Key": "k-9"})
    assert repeat.json()["seq"] == by_header.json()["seq"]
    bodies = [e["data"].get("body") for e in await api.events(room, room["client"])]
    assert bodies == [None, "Invoice attached", "by header"]


async def test_the_same_client_id_from_two_people_is_two_messages(api: Api) -> None:
    room = await api.room()
    a = await api.post(room, room["client"], "from client", client_id="same")
    b = await api.post(room, room["freelancer"], "from freelancer", client_id="same")
    assert (a["seq"], b["seq"]) == (2, 3)


async def test_every_event_has_the_envelope_of_the_design(api: Api) -> None:
    room = await api.room()
    event = await api.post(room, room["freelancer"], "hi")
    assert set(event) == {"room", "seq", "type", "at", "actor", "source", "data"}
    assert event["room"] == room.id and event["source"] == "api"
    assert event["actor"] == {"id": room["freelancer"].id, "name": "Fred Freelancer", "role": "freelancer"}
    assert event["at"].endswith("Z")


async def test_events_page_in_order_with_next_since(api: Api) -> None:
    room = await api.room()
    for i in range(7):
        await api.post(room, room["client"], f"m{i}")
    page = await api.ok("GET", f"/api/rooms/{room.id}/events?since=2&limit=3", room["freelancer"])
    assert [e["seq"] for e in page["events"]] == [3, 4, 5] and page["next_since"] == 5
    rest = await api.ok("GET", f"/api/rooms/{room.id}/events?since=5&limit=100", room["freelancer"])
    assert [e["seq"] for e in rest["events"]] == [6, 7, 8] and rest["next_since"] == 8
    empty = await api.ok("GET", f"/api/rooms/{room.id}/events?since=8", room["freelancer"])
    assert empty == {"events": [], "next_since": 8}


async def test_stored_events_are_published_after_commit(api: Api, services: Services) -> None:
    room = await api.room()
    await services.broker.subscribe(room_channel(room.id))
    event = await api.post(room, room["client"], "live")
    published = await asyncio.wait_for(services.broker.next_published(), 5)
    assert published.channel == room_channel(room.id)
    assert json.loads(published.message) == event


async def test_a_rejected_post_publishes_nothing_and_stores_nothing(api: Api, services: Services) -> None:
    room = await api.room()
    await services.broker.subscribe(room_channel(room.id))
    bad = await api.call("POST", f"/api/rooms/{room.id}/messages", room["client"],
                         json={"body": "see file", "files": ["f_nope"]})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "unknown_file"
    assert [e["seq"] for e in await api.events(room, room["client"])] == [1]
    ok = await api.post(room, room["client"], "next")
    published = await asyncio.wait_for(services.broker.next_published(), 5)
    assert json.loads(published.message)["seq"] == ok["seq"] == 2


async def test_100_concurrent_posts_get_seq_exactly_1_to_100(pg_api: Api) -> None:
    api = pg_api
    room = await api.room()
    people = [room["client"], room["freelancer"]]

    async def post(i: int) -> int:
        response = await api.call("POST", f"/api/rooms/{room.id}/messages", people[i % 2],
                                  json={"body": f"message {i}", "client_id": f"c{i}"})
        assert response.status_code == 201, response.text
        return int(response.json()["seq"])

    seqs = await asyncio.gather(*(post(i) for i in range(100)))
    # seq 1 is room.created; the 100 posts take 2..101, each exactly once.
    assert sorted(seqs) == list(range(2, 102))
    events = await api.events(room, room["client"])
    assert [e["seq"] for e in events] == list(range(1, 102))
    assert sorted(e["data"]["body"] for e in events[1:]) == sorted(f"message {i}" for i in range(100))


async def test_concurrent_repeats_of_one_client_id_store_one_event(pg_api: Api) -> None:
    api = pg_api
    room = await api.room()
    responses = await asyncio.gather(*(
        api.call("POST", f"/api/rooms/{room.id}/messages", room["client"],
                 json={"body": "once", "client_id": "retry-me"}) for _ in range(20)))
    assert {r.json()["seq"] for r in responses} == {2}
    assert sorted(r.status_code for r in responses) == [200] * 19 + [201]
    assert len(await api.events(room, room["client"])) == 2
