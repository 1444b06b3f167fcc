"""The Redis broker (redis.asyncio pub/sub): many processes, one Redis.

One pub/sub connection per process carries every room channel this process has sockets for, so
a room costs one Redis subscription per process however many sockets watch it. A listener task
reads it; a supervisor checks that the listener is alive and hears its own PINGs, and restarts it
when it is not. After any reconnect the listener resubscribes everything and yields `RESUMED`, so
the hub re-reads the log for what it may have missed (Redis pub/sub keeps nothing for the absent).

Publishing fails fast while Redis is known to be down: the post is already stored, so the caller
only logs; the sockets catch up from the log when Redis is back.
"""

from __future__ import annotations

import asyncio
import logging
import time

import redis.asyncio as redis
from redis.exceptions import RedisError

from workroom.channels.broker import RESUMED, Published

log = logging.getLogger(__name__)


class BrokerDown(ConnectionError):
    """Redis is not reachable now."""


class RedisBroker:
    def __init__(self, url: str, *, prefix: str = "workroom:", check_seconds: float = 2.0) -> None:
        self.url = url
        self.prefix = prefix
        self.check_seconds = check_seconds
        self.client = redis.Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=5.0)
        self._queue: asyncio.Queue[Published] = asyncio.Queue()
        self._channels: set[str] = set()
        self._confirmations: dict[str, asyncio.Future[None]] = {}
        self._pubsub: redis.client.PubSub | None = None
        self._listener: asyncio.Task[None] | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._heard_at = 0.0
        self._connected_once = False
        self.up = False
        self.restarts = 0

    # lifecycle ---------------------------------------------------------------------------------
    async def connect(self) -> None:
        self._listener = asyncio.create_task(self._listen(), name="redis-broker-listener")
        self._supervisor = asyncio.create_task(self._supervise(), name="redis-broker-supervisor")

    async def disconnect(self) -> None:
        for task in (self._supervisor, self._listener):
            if task is not None:
                task.cancel()
        await asyncio.gather(*(t for t in (self._supervisor, self._listener) if t), return_exceptions=True)
        await self._close_pubsub()
        await self.client.aclose()

    # the interface -----------------------------------------------------------------------------
    async def subscribe(self, channel: str) -> None:
        """Returns once Redis confirmed the subscription, or at once when Redis is down (the
        listener subscribes it on reconnect and yields RESUMED)."""
        self._channels.add(channel)
        pubsub = self._pubsub
        if not self.up or pubsub is None:
            return
        waiter = self._confirmations.setdefault(channel, asyncio.get_running_loop().create_future())
        try:
            await pubsub.subscribe(self.prefix + channel)
            await asyncio.wait_for(asyncio.shield(waiter), timeout=2.0)
        except (RedisError, OSError, asyncio.TimeoutError):
            log.warning("subscribing %s not confirmed; it is subscribed again when Redis is back", channel)
        finally:
            if self._confirmations.get(channel) is waiter and waiter.done():
                self._confirmations.pop(channel, None)

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)
        pubsub = self._pubsub
        if self.up and pubsub is not None:
            try:
                await pubsub.unsubscribe(self.prefix + channel)
            except (RedisError, OSError):
                pass  # the connection is gone; the reconnect will not resubscribe it

    async def publish(self, channel: str, message: str) -> None:
        if not self.up:
            raise BrokerDown("Redis is down; subscribers catch up from the log")
        try:
            await asyncio.wait_for(self.client.publish(self.prefix + channel, message), timeout=1.0)
        except (RedisError, OSError, asyncio.TimeoutError) as exc:
            raise BrokerDown(str(exc)) from exc

    async def next_published(self) -> Published:
        return await self._queue.get()

    async def ping(self) -> None:
        if not self.up:
            raise BrokerDown("the Redis listener is not connected")
        await asyncio.wait_for(self.client.ping(), timeout=1.0)

    @property
    def subscriptions(self) -> int:
        return len(self._channels)

    # the listener --------------------------------------------------------------------------------
    async def _listen(self) -> None:
        backoff = 0.05
        while True:
            try:
                await self._listen_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure of the connection: mark down, retry, refill after
                if self.up:
                    log.warning("Redis listener lost its connection (%s); reconnecting", exc)
                    backoff = 0.05
                self.up = False
            await self._close_pubsub()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 1.0)

    async def _listen_once(self) -> None:
        pubsub = self.client.pubsub(ignore_subscribe_messages=False)
        self._pubsub = pubsub
        control = self.prefix + "~control"
        wanted = set(self._channels)
        await pubsub.subscribe(control, *(self.prefix + c for c in wanted))
        self.up = True
        late = self._channels - wanted      # subscribed by the hub while we were connecting
        if late:
            await pubsub.subscribe(*(self.prefix + c for c in late))
        self._heard_at = time.monotonic()
        if self._connected_once:
            log.warning("Redis listener connected again; catching up from the log")
            self._queue.put_nowait(Published(RESUMED, ""))
        self._connected_once = True
        cut = len(self.prefix)
        while True:
            message = await pubsub.get_message(timeout=self.check_seconds)
            if message is None:
                continue
            self._heard_at = time.monotonic()
            kind = message["type"]
            if kind == "message":
                data = message["data"]
                self._queue.put_nowait(Published(message["channel"].decode()[cut:],
                                                 data.decode() if isinstance(data, bytes) else data))
            elif kind == "subscribe":
                waiter = self._confirmations.pop(message["channel"].decode()[cut:], None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(None)

    async def _close_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        await _close(pubsub)

    # the health check ----------------------------------------------------------------------------
    async def _supervise(self) -> None:
        """Restart a listener that died or went deaf: it must hear its own PING replies."""
        while True:
            await asyncio.sleep(self.check_seconds)
            listener = self._listener
            if listener is None or listener.done():
                self._restart("the listener task ended")
                continue
            pubsub = self._pubsub
            if self.up and pubsub is not None:
                try:
                    await asyncio.wait_for(pubsub.ping(), timeout=self.check_seconds)
                except Exception:
                    pass  # the listener sees the same failure
            if self.up and time.monotonic() - self._heard_at > 3 * self.check_seconds:
                self._restart("the listener heard nothing, not even its own PING")

    def _restart(self, why: str) -> None:
        log.warning("restarting the Redis listener: %s", why)
        self.restarts += 1
        self.up = False
        if self._listener is not None:
            self._listener.cancel()
        # the old connection may be up but deaf: close it, or each restart would leave one open
        old, self._pubsub = self._pubsub, None
        if old is not None:
            asyncio.get_running_loop().create_task(_close(old))
        self._listener = asyncio.create_task(self._listen(), name="redis-broker-listener")
        # a fresh listener always yields RESUMED once it is connected
        self._connected_once = True


async def _close(pubsub: redis.client.PubSub | None) -> None:
    if pubsub is not None:
        try:
            await asyncio.wait_for(pubsub.aclose(), timeout=1.0)
        except Exception:
            pass  # already broken; we only want its socket gone
