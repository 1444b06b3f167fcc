"""The broker interface: carries already-stored events (and ephemeral signals) between processes.

Shaped like encode/broadcaster's backends: connect, subscribe to named channels, publish, and read
what arrives with `next_published`. The memory backend serves one process; the Redis backend
(selected by REDIS_URL) serves many."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Published:
    channel: str
    message: str


class Broker(Protocol):
    async def connect(self) -> None: ...

    async def disconnect(self) -> None: ...

    async def subscribe(self, channel: str) -> None: ...

    async def unsubscribe(self, channel: str) -> None: ...

    async def publish(self, channel: str, message: str) -> None: ...

    async def next_published(self) -> Published: ...

    async def ping(self) -> None:
        """Raise if the broker cannot carry messages now (for /healthz)."""


# Not a channel: what `next_published` yields after the broker lost its connection (or its
# listener) and got it back. Messages may have been missed meanwhile, so the hub re-reads the log.
RESUMED = "~resumed"


def room_channel(room_id: str) -> str:
    return f"room:{room_id}"


class MemoryBroker:
    """One process: publishing puts the message on the queue when the channel is subscribed."""

    def __init__(self) -> None:
        self._subscribed: set[str] = set()
        self._queue: asyncio.Queue[Published] = asyncio.Queue()

    async def connect(self) -> None:
        return None

    async def disconnect(self) -> None:
        self._subscribed.clear()

    async def subscribe(self, channel: str) -> None:
        self._subscribed.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        self._subscribed.discard(channel)

    async def publish(self, channel: str, message: str) -> None:
        if channel in self._subscribed:
            self._queue.put_nowait(Published(channel, message))

    async def next_published(self) -> Published:
        return await self._queue.get()

    async def ping(self) -> None:
        return None
