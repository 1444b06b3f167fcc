"""The publishing side of the load generator: one socket per room, posts at a set total rate.

Posts are fire-and-forget (acks are read and counted in the background so the server is never
blocked writing them). Each post's body carries its per-room `pseq` and its send time.
"""
from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from bench.stamps import make_body
from bench.wire import Wire


class RoomPublisher:
    def __init__(self, wire: Wire, url: str, room: str, padding: str) -> None:
        self.wire = wire
        self.url = url
        self.room = room
        self.padding = padding
        self.pseq = 0
        self.acks = 0
        self.errors: list[Any] = []
        self.ws: Any = None
        self.reader: asyncio.Task | None = None

    async def open(self) -> None:
        self.ws = await connect(self.url, compression=None, max_size=2**22, open_timeout=30,
                                ping_interval=None)
        await self.wire.handshake(self.ws)
        self.reader = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        pong = self.wire.pong()
        try:
            async for message in self.ws:
                frame = self.wire.parse(message)
                if frame.kind == "ack":
                    self.acks += 1
                elif frame.kind == "error" and len(self.errors) < 20:
                    self.errors.append(frame.raw)
                elif frame.kind == "ping" and pong:
                    await self.ws.send(pong)
        except ConnectionClosed as exc:
            self.errors.append(f"closed: {exc}")

    async def post(self) -> bool:
        pseq = self.pseq + 1
        try:
            await self.ws.send(self.wire.post(self.room, make_body(pseq, self.padding), f"b{pseq}"))
        except ConnectionClosed:
            return False
        self.pseq = pseq                 # counted as published only once handed to the socket
        return True

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            self.reader.cancel()


class Publishers:
    def __init__(self, wire: Wire, url_for_room: dict[str, str], padding_bytes: int = 64) -> None:
        padding = "x" * padding_bytes
        self.rooms = [RoomPublisher(wire, url, room, padding) for room, url in url_for_room.items()]

    async def open(self) -> None:
        gate = asyncio.Semaphore(50)

        async def one(p: RoomPublisher) -> None:
            async with gate:
                await p.open()
        await asyncio.gather(*(one(p) for p in self.rooms))

    async def run(self, rate: float, seconds: float, tick: float = 0.01) -> dict:
        """Post `rate` posts/s in total, round-robin over rooms, for `seconds` (bounded)."""
        start = time.monotonic()
        sent = 0
        cycle = itertools.cycle(self.rooms)
        failed = 0
        while True:
            elapsed = time.monotonic() - start
            if elapsed >= seconds:
                break
            due = int(rate * elapsed) - sent
            for _ in range(max(0, due)):
                if not await next(cycle).post():
                    failed += 1
                sent += 1
            await asyncio.sleep(tick)
        return {"sent": sent, "failed": failed, "seconds": time.monotonic() - start}

    def expected(self) -> dict[str, int]:
        return {p.room: p.pseq for p in self.rooms}

    def errors(self) -> list[Any]:
        return [e for p in self.rooms for e in p.errors][:10]

    async def close(self) -> None:
        await asyncio.gather(*(p.close() for p in self.rooms), return_exceptions=True)
