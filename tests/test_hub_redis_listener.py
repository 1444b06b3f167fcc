"""The Redis broker's listener against a real redis-server: a listener whose connection is still up
but hears nothing any more ("deaf") is noticed by the health check and restarted, and the hub is
told to catch up from the log (RESUMED) before live messages flow again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import redis.asyncio as redis

from tests.backends import free_port
from tests.live_servers import RedisProcess
from tests.tcp_proxy import TcpProxy
from workroom.channels.broker import RESUMED, Published, room_channel
from workroom.channels.redis_broker import RedisBroker


async def test_a_deaf_redis_listener_is_noticed_and_restarted(tmp_path: Path) -> None:
    server = RedisProcess(tmp_path)
    server.start()
    proxy = TcpProxy(free_port(), "127.0.0.1", server.port)   # the broker reaches Redis through it
    await proxy.start()
    broker = RedisBroker(f"redis://127.0.0.1:{proxy.listen_port}/0", prefix="deaf:", check_seconds=0.2)
    direct = redis.Redis(port=server.port)
    channel = room_channel("r1")
    try:
        await broker.connect()
        for _ in range(100):              # bounded: the listener connects within a few tries
            if broker.up:
                break
            await asyncio.sleep(0.05)
        await broker.subscribe(channel)
        await direct.publish("deaf:" + channel, "before")
        assert await asyncio.wait_for(broker.next_published(), 10) == Published(channel, "before")

        proxy.deafen()                    # the connection stays open; nothing comes through any more
        await direct.publish("deaf:" + channel, "while deaf")
        # noticed (it does not even hear its own PINGs), restarted on a new connection, and the hub
        # is told it may have missed messages: it re-reads the room log rather than trusting the gap
        assert await asyncio.wait_for(broker.next_published(), 10) == Published(RESUMED, "")
        assert broker.restarts >= 1

        await direct.publish("deaf:" + channel, "after")
        assert await asyncio.wait_for(broker.next_published(), 10) == Published(channel, "after")
    finally:
        await broker.disconnect()
        await direct.aclose()
        await proxy.cut()
        server.kill()
