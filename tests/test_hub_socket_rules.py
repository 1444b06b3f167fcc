"""The rules of one `/ws` connection against a real uvicorn process: bad input answered with
error frames (the socket stays usable), abuse closed with its close code, slow readers given up
with 4008 while the others keep flowing, guests unsubscribed when their access ends."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from datetime import timedelta
from pathlib import Path
from typing import Any, AsyncIterator

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.live_servers import Cluster, LiveClient, http_api


@pytest.fixture
async def single(postgres_url: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    """One web process on PostgreSQL and the in-memory broker (no Redis needed for one process)."""
    url = postgres_url
    live = Cluster(url, tmp_path, with_redis=False)
    try:
        yield live
    finally:
        live.stop()


async def test_bad_input_gets_error_frames_and_abuse_gets_closed(single: Cluster) -> None:
    web = single.start_web("A", WORKROOM_WS_MAX_FRAME_BYTES="8192", WORKROOM_WS_POSTS_PER_WINDOW="5",
                           WORKROOM_WS_OPS_PER_WINDOW="40", WORKROOM_WS_RATE_WINDOW_SECONDS="600")
    api, http = http_api(web)
    try:
        room = await api.room()
        other = await api.room()
        me = room["freelancer"]

        # expired or forged tokens: closed with 4001 right after the handshake
        expired = api.person("late@example.com", ttl=timedelta(seconds=-60))
        for token in (expired.token, "not-a-jwt"):
            client = await LiveClient(web.ws(token)).open()
            await client.wait_for(lambda c: c.close_code is not None)
            assert client.close_code == 4001

        # the browser's session cookie works too, from our own origin only (cross-site: 4003)
        login = await http.get("/login", params={"token": me.token}, follow_redirects=False)
        cookie = f"workroom_session={login.cookies['workroom_session']}"
        plain = f"ws://127.0.0.1:{web.port}/ws"
        browser = await LiveClient(plain, additional_headers={"Cookie": cookie, "Origin": web.http}).open()
        assert (await browser.subscribe(room.id))["room"] == room.id
        await browser.close()
        forged = await LiveClient(plain, additional_headers={"Cookie": cookie, "Origin": "http://evil.example"}).open()
        await forged.wait_for(lambda c: c.close_code is not None)
        assert forged.close_code == 4003

        client = await LiveClient(web.ws(me.token)).open()
        await client.ws.send("this is not json")                      # type: ignore[union-attr]
        await client.send(op="dance", id=1)
        await client.send(op="subscribe", room=other.id, id=2)         # a room that is not mine
        await client.send(op="subscribe", room="r_nope", id=3)         # a room that does not exist
        await client.send(op="subscribe", id=4)                        # no room at all
        await client.send(op="ping", id=5)
        await client.wait_for(lambda c: c.of_type("pong"))
        errors = client.of_type("error")
        assert [e["code"] for e in errors] == ["bad_json", "unknown_op", "room_not_found", "room_not_found",
                                               "invalid_field"]
        assert [e.get("id") for e in errors] == [None, 1, 2, 3, 4]
        assert client.of_type("pong")[0]["id"] == 5 and client.close_code is None   # still usable
        assert not client.events                                        # nothing leaked from the other room

        # a frame past the maximum size: 1009
        await client.ws.send('{"op":"ping","pad":"' + "x" * 9000 + '"}')  # type: ignore[union-attr]
        await client.wait_for(lambda c: c.close_code is not None)
        assert client.close_code == 1009

        # a post flood: the sixth post in the window closes the socket with 4029
        flooder = await LiveClient(web.ws(me.token)).open()
        for i in range(6):
            await flooder.send(op="post", room=room.id, body=f"spam {i}", client_id=f"s{i}")
        await flooder.wait_for(lambda c: c.close_code is not None)
        assert flooder.close_code == 4029
        assert len(flooder.of_type("ack")) == 5

        # an op flood (anything, even pings): 4029 too
        pinger = await LiveClient(web.ws(me.token)).open()
        for i in range(45):
            await pinger.send(op="ping")
        await pinger.wait_for(lambda c: c.close_code is not None)
        assert pinger.close_code == 4029 and len(pinger.of_type("pong")) == 40
    finally:
        await http.aclose()


def _thin_socket(port: int) -> socket.socket:
    """A client on a thin link: a 4 KB receive buffer, so the server feels it stop reading."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    return sock


async def test_a_client_that_stops_reading_is_closed_with_4008_and_the_others_get_everything(single: Cluster) -> None:
    limit = 64 * 1024
    # protocol pings far apart: this is about a client that is alive but slow, not a dead one
    web = single.start_web("A", ping_seconds=120, WORKROOM_WS_SEND_QUEUE_BYTES=str(limit))
    api, http = http_api(web)
    try:
        room = await api.room()
        reader = await LiveClient(web.ws(room["client"].token)).open()
        await reader.subscribe(room.id, since=0)
        slow = LiveClient(web.ws(room["freelancer"].token), sock=_thin_socket(web.port), max_queue=1)
        await slow.open(read=False)
        await slow.send(op="subscribe", room=room.id, since=0)      # and never read again

        body = "z" * 19_000          # the kernel buffers take a few MB before the server queue grows
        posted = []
        async with httpx.AsyncClient(base_url=web.http, timeout=30) as poster:
            for i in range(600):
                response = await poster.post(f"/api/rooms/{room.id}/messages", headers=room["client"].headers,
                                             json={"body": f"{i} {body}"})
                assert response.status_code == 201
                posted.append(response.json()["seq"])
                stats = (await poster.get("/healthz/hub")).json()
                if stats["closed_slow"] >= 1:
                    break
            stats = (await poster.get("/healthz/hub")).json()
        assert stats["closed_slow"] == 1
        # memory stayed bounded: no socket ever held more than its limit in the server's queue
        assert stats["peak_queued_bytes"] <= limit and stats["max_socket_queued_bytes"] <= limit

        # the reader that kept reading has every event, in order
        await reader.wait_for(lambda c: c.events.get(room.id, [])[-1:] == [posted[-1]], timeout=60)
        assert reader.events[room.id] == list(range(1, posted[-1] + 1))

        # the slow one, once it reads again, finds a gapless prefix and then the 4008 close
        slow.start_reading()
        await slow.wait_for(lambda c: c.close_code is not None, timeout=60)
        assert slow.close_code == 4008
        got = slow.events.get(room.id, [])
        assert got == list(range(1, len(got) + 1)) and len(got) < posted[-1]
        await reader.close()
    finally:
        await http.aclose()


async def test_a_guest_whose_access_ends_is_unsubscribed(single: Cluster) -> None:
    web = single.start_web("A", WORKROOM_TEST_CLOCK="1")
    api, http = http_api(web)
    try:
        room = await api.room(guest_for=timedelta(days=1))
        guest = await LiveClient(web.ws(room["guest"].token)).open()
        await guest.subscribe(room.id, since=0)
        await api.post(room, room["client"], "before the end")
        await guest.wait_for(lambda c: "before the end" in c.bodies.get(room.id, []))

        await api.ok("POST", "/api/test-clock", json={"advance": "P2D"})   # the expiry timer fires
        await guest.wait_for(lambda c: c.of_type("error"))
        assert guest.of_type("error")[0]["code"] in ("access_ended", "access_expired")
        await api.post(room, room["client"], "after the end")
        await guest.send(op="ping")
        await guest.wait_for(lambda c: c.of_type("pong"))
        assert "after the end" not in guest.bodies.get(room.id, [])

        await guest.send(op="subscribe", room=room.id, since=0, id="again")   # and cannot come back
        await guest.wait_for(lambda c: len(c.of_type("error")) > 1)
        assert guest.of_type("error")[-1]["code"] == "access_expired"
        await guest.close()
    finally:
        await http.aclose()


async def test_a_socket_whose_token_expires_is_closed_with_4001(single: Cluster) -> None:
    """The token is checked at connect, on every op, and by the hub's health check, so a socket
    that only listens is stopped too."""
    web = single.start_web("A", WORKROOM_TEST_CLOCK="1")
    api, http = http_api(web)
    try:
        room = await api.room()
        hour = api.person(room["freelancer"].email, ttl=timedelta(hours=1))   # same account, a one-hour token
        listening = await LiveClient(web.ws(hour.token)).open()
        asking = await LiveClient(web.ws(hour.token)).open()
        lasting = await LiveClient(web.ws(room["freelancer"].token)).open()
        await listening.subscribe(room.id, since=0)
        await lasting.subscribe(room.id, since=0)
        await api.post(room, room["client"], "while signed in")
        await listening.wait_for(lambda c: "while signed in" in c.bodies.get(room.id, []))

        await api.ok("POST", "/api/test-clock", json={"advance": "PT2H"})
        with contextlib.suppress(ConnectionClosed):
            await asking.send(op="ping", id="late")
        await listening.wait_for(lambda c: c.close_code is not None)
        await asking.wait_for(lambda c: c.close_code is not None)
        assert (listening.close_code, asking.close_code) == (4001, 4001)
        assert not asking.of_type("pong")

        await api.post(room, room["client"], "after the token expired")
        await lasting.wait_for(lambda c: "after the token expired" in c.bodies.get(room.id, []))
        assert "after the token expired" not in listening.bodies.get(room.id, [])
        await lasting.close()
    finally:
        await http.aclose()


# "auto" is uvicorn's websockets-sansio protocol, whose transport the hub writes to directly
# (frames compressed one by one for a client that negotiated permessage-deflate, as browsers do);
# "websockets" (uvicorn's older protocol) takes the plain ASGI `send` path.
@pytest.mark.parametrize("ws,compression", [("auto", None), ("auto", "deflate"), ("websockets", None)])
async def test_the_embedded_shape_sqlite_and_the_memory_broker_is_live(sqlite_dbs: Any, tmp_path: Path,
                                                                        ws: str, compression: str | None) -> None:
    url = await asyncio.to_thread(sqlite_dbs.fresh)
    embedded = Cluster(url, tmp_path, with_redis=False)
    try:
        web = embedded.start_web("A", ws=ws)
        api, http = http_api(web)
        room = await api.room()
        reader = await LiveClient(web.ws(room["freelancer"].token), compression=compression).open()
        assert reader.ws is not None and bool(reader.ws.protocol.extensions) == (compression is not None)
        writer = await LiveClient(web.ws(room["client"].token)).open()
        await reader.subscribe(room.id, since=0)
        await writer.subscribe(room.id, since=0)
        await writer.send(op="post", room=room.id, body="hello embedded", client_id="e1")
        await writer.send(op="typing", room=room.id)
        await reader.wait_for(lambda c: "hello embedded" in c.bodies.get(room.id, []) and c.of_type("typing"))
        await reader.wait_for(lambda c: any(len(f["online"]) == 2 for f in c.of_type("presence")))
        assert reader.events[room.id] == list(range(1, reader.events[room.id][-1] + 1))
        await reader.close()
        await writer.close()
        await http.aclose()
    finally:
        embedded.stop()


async def test_typing_repeats_after_the_throttle_even_on_a_frozen_test_clock(sqlite_dbs: Any, tmp_path: Path) -> None:
    """The 2-second typing throttle (and the flood limits) run on real time, so a server whose
    product clock is frozen for tests still lets a typist announce again."""
    url = await asyncio.to_thread(sqlite_dbs.fresh)
    embedded = Cluster(url, tmp_path, with_redis=False)
    try:
        web = embedded.start_web("A", WORKROOM_TEST_CLOCK="1")
        api, http = http_api(web)
        room = await api.room()
        reader = await LiveClient(web.ws(room["freelancer"].token)).open()
        writer = await LiveClient(web.ws(room["client"].token)).open()
        await reader.subscribe(room.id, since=0)
        await writer.subscribe(room.id, since=0)
        await writer.send(op="typing", room=room.id)
        await reader.wait_for(lambda c: len(c.of_type("typing")) == 1)
        await asyncio.sleep(2.2)
        await writer.send(op="typing", room=room.id)
        await reader.wait_for(lambda c: len(c.of_type("typing")) == 2)
        await reader.close()
        await writer.close()
        await http.aclose()
    finally:
        embedded.stop()
