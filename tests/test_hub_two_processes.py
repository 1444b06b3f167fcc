"""Live hub across processes: real uvicorn `web` processes on one Redis and one PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator

import pytest
import redis.asyncio as redis

from tests.live_servers import Cluster, LiveClient, WebProcess, http_api
from tests.people import Api


@pytest.fixture
async def cluster(postgres_url: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    url = postgres_url
    live = Cluster(url, tmp_path)
    assert live.redis is not None
    live.redis.start()
    try:
        yield live
    finally:
        live.stop()


TwoWebs = tuple[WebProcess, WebProcess, Api]


@pytest.fixture
async def two_webs(cluster: Cluster) -> AsyncIterator[TwoWebs]:
    """Processes A and B on the cluster's Redis and database, and the API helper speaking to A."""
    a, b = cluster.start_web("A"), cluster.start_web("B")
    api, http = http_api(a)
    try:
        yield a, b, api
    finally:
        await http.aclose()


async def test_a_post_on_a_reaches_a_client_on_b_live(two_webs: TwoWebs) -> None:
    a, b, api = two_webs
    room = await api.room()
    client, freelancer = room["client"], room["freelancer"]
    on_b = await LiveClient(b.ws(freelancer.token)).open()
    on_a = await LiveClient(a.ws(client.token)).open()
    subscribed = await on_b.subscribe(room.id, since=0)
    head = subscribed["head"]
    await on_a.subscribe(room.id, since=head)
    # the backlog first: everything stored so far, in order
    await on_b.wait_for(lambda c: c.events.get(room.id) == list(range(1, head + 1)))

    await on_a.send(op="post", room=room.id, body="hello from A", client_id="c1", id=7)
    await on_a.wait_for(lambda c: c.of_type("ack"))
    ack = on_a.of_type("ack")[0]
    assert ack["client_id"] == "c1" and ack["seq"] == head + 1 and ack["id"] == 7
    await on_b.wait_for(lambda c: "hello from A" in c.bodies.get(room.id, []))
    assert on_b.events[room.id] == list(range(1, head + 2))

    # presence and typing cross processes too
    await on_b.wait_for(lambda c: any({p["id"] for p in f["online"]} == {client.id, freelancer.id}
                                      for f in c.of_type("presence")))
    await on_a.send(op="typing", room=room.id)
    await on_b.wait_for(lambda c: any(f["actor"]["id"] == client.id for f in c.of_type("typing")))

    # unread follows read
    await on_b.send(op="read", room=room.id, seq=head, id="r1")
    await on_b.wait_for(lambda c: c.of_type("read"))
    assert on_b.of_type("read")[0]["unread"] == 1     # the message from A is still unread
    await on_a.close()
    await on_b.close()


async def test_redis_restarted_while_posting_every_subscriber_has_every_event_once_in_order(
        cluster: Cluster, two_webs: TwoWebs) -> None:
    a, b, api = two_webs
    assert cluster.redis is not None
    room = await api.room()
    poster = room["client"]
    watchers = [await LiveClient(web.ws(room["freelancer"].token)).open() for web in (a, b, b)]
    for watcher in watchers:
        await watcher.subscribe(room.id, since=0)
    # one Redis subscription per room per process, however many sockets (B has two)
    probe = redis.Redis.from_url(cluster.redis.url)
    channel = f"{cluster.prefix}room:{room.id}"
    assert (await probe.pubsub_numsub(channel)) == [(channel.encode(), 2)]
    await probe.aclose()
    first = await api.post(room, poster, "before 0")
    start = first["seq"]
    for i in range(1, 15):
        await api.post(room, poster, f"before {i}")
    cluster.redis.kill()
    for i in range(15):           # posting keeps working while Redis is down: stored and answered
        await api.post(room, poster, f"during {i}")
    cluster.redis.start()         # same port, empty: every subscription is gone
    for i in range(15):
        await api.post(room, poster, f"after {i}")
    last = start + 44
    for watcher in watchers:
        await watcher.wait_for(lambda c: c.events.get(room.id, [])[-1:] == [last], timeout=60)
        assert watcher.events[room.id] == list(range(1, last + 1)), cluster.logs()
    for watcher in watchers:
        await watcher.close()


async def test_a_killed_process_clients_reconnect_to_the_other_and_resume_with_since(cluster: Cluster) -> None:
    a = cluster.start_web("A", WORKROOM_PRESENCE_TTL_SECONDS="2")
    b = cluster.start_web("B", WORKROOM_PRESENCE_TTL_SECONDS="2")
    api, http = http_api(a)
    try:
        room = await api.room()
        poster, freelancer = room["client"], room["freelancer"]
        on_a = await LiveClient(a.ws(poster.token)).open()
        await on_a.subscribe(room.id)
        on_b = await LiveClient(b.ws(freelancer.token)).open()
        await on_b.subscribe(room.id, since=0)
        await on_a.wait_for(lambda c: any(freelancer.id in {p["id"] for p in f["online"]}
                                          for f in c.of_type("presence")))
        for i in range(10):
            await api.post(room, poster, f"one {i}")
        await on_b.wait_for(lambda c: "one 9" in c.bodies.get(room.id, []))
        b.sigkill()
        await on_b.wait_for(lambda c: c.close_code is not None)
        # nobody told A that B's people left: their presence expires on its own
        await on_a.wait_for(lambda c: [p["id"] for p in c.of_type("presence")[-1]["online"]] == [poster.id])
        for i in range(10):           # the room moves on while the client is away
            await api.post(room, poster, f"two {i}")
        seen = on_b.events[room.id]
        again = await LiveClient(a.ws(room["freelancer"].token)).open()
        await again.subscribe(room.id, since=seen[-1])
        await api.post(room, poster, "three")
        await again.wait_for(lambda c: "three" in c.bodies.get(room.id, []))
        assert seen + again.events[room.id] == list(range(1, seen[-1] + len(again.events[room.id]) + 1))
        assert again.bodies[room.id][-11:] == [f"two {i}" for i in range(10)] + ["three"]
        await again.close()
        await on_a.close()
    finally:
        await http.aclose()


async def test_a_read_on_one_tab_moves_the_unread_count_on_the_accounts_other_tabs(two_webs: TwoWebs) -> None:
    a, b, api = two_webs
    room = await api.room()
    client, freelancer = room["client"], room["freelancer"]
    tab, same_process_tab, other_process_tab = [
        await LiveClient(web.ws(freelancer.token)).open() for web in (a, a, b)]
    someone_else = await LiveClient(b.ws(client.token)).open()
    everyone = (tab, same_process_tab, other_process_tab, someone_else)
    for socket in everyone:
        await socket.subscribe(room.id, since=0)
    for n in range(3):
        await api.post(room, client, f"unread {n}")
    await other_process_tab.wait_for(lambda c: "unread 2" in c.bodies.get(room.id, []))
    head = other_process_tab.events[room.id][-1]

    await tab.send(op="read", room=room.id, seq=head - 2, id="r1")
    await tab.wait_for(lambda c: c.of_type("read"))
    assert tab.of_type("read")[0] == {"type": "read", "id": "r1", "room": room.id, "seq": head - 2,
                                      "unread": 2}
    for other_tab in (same_process_tab, other_process_tab):
        await other_tab.wait_for(lambda c: c.of_type("read"))
        assert [(f["room"], f["seq"], f["unread"]) for f in other_tab.of_type("read")] == [(room.id, head - 2, 2)]

    await other_process_tab.send(op="read", room=room.id, seq=head, id="r2")
    await tab.wait_for(lambda c: len(c.of_type("read")) == 2)
    assert tab.of_type("read")[-1]["unread"] == 0
    await same_process_tab.wait_for(lambda c: len(c.of_type("read")) == 2)
    await other_process_tab.wait_for(lambda c: any(f.get("id") == "r2" for f in c.of_type("read")))  # its reply
    await someone_else.send(op="ping", id="p")
    await someone_else.wait_for(lambda c: c.of_type("pong"))
    assert len(tab.of_type("read")) == 2 and len(other_process_tab.of_type("read")) == 2   # no echo
    assert not someone_else.of_type("read")      # another account's count is its own

    # A read through HTTP (another client of the API) moves every tab's count as well.
    await api.post(room, client, "one more")
    await tab.wait_for(lambda c: "one more" in c.bodies.get(room.id, []))
    newest = tab.events[room.id][-1]
    answer = await api.ok("POST", f"/api/rooms/{room.id}/read", freelancer, json={"seq": newest})
    assert answer == {"seq": newest, "unread": 0}
    for each in (tab, same_process_tab, other_process_tab):
        await each.wait_for(lambda c: len(c.of_type("read")) == 3)
        assert (each.of_type("read")[-1]["seq"], each.of_type("read")[-1]["unread"]) == (newest, 0)
    for socket in everyone:
        await socket.close()

