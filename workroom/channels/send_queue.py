"""A socket's bounded outbox, in bytes.

Frames are shared strings (one per event per process), so the queue holds references; its bound
is on the bytes it would still have to write. Under pressure, ephemeral frames (typing, presence)
are dropped first; a stored event never is: past the bound the socket is given up (4008) and
the client resumes with `since`, losing nothing.
"""

from __future__ import annotations

import asyncio
from collections import deque


class SendQueue:
    def __init__(self, limit_bytes: int) -> None:
        self.limit = limit_bytes
        self.ephemeral_limit = limit_bytes // 4
        self._frames: deque[str] = deque()
        self.bytes = 0
        self.peak_bytes = 0
        self.dropped_ephemeral = 0
        self.overflowed = False
        self._waiter: asyncio.Future[None] | None = None   # the writer, asleep on an empty queue

    def put(self, frame: str, *, ephemeral: bool = False) -> bool:
        """Queue a frame; False when the socket has fallen too far behind (close it with 4008)."""
        if self.overflowed:
            return False
        size = len(frame)
        if ephemeral and self.bytes + size > self.ephemeral_limit:
            self.dropped_ephemeral += 1
            return True
        if self.bytes + size > self.limit:
            self.overflowed = True
            self._frames.clear()
            self.bytes = 0
            self._wake()
            return False
        self._frames.append(frame)
        self.bytes += size
        if self.bytes > self.peak_bytes:
            self.peak_bytes = self.bytes
        self._wake()
        return True

    def _wake(self) -> None:
        # a bare future, not an asyncio.Event: this runs once per event per socket
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    async def get(self) -> str | None:
        """The next frame to write; None once the queue overflowed (stop writing, close)."""
        while not self._frames:
            if self.overflowed:
                return None
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        if self.overflowed:
            return None
        frame = self._frames.popleft()
        self.bytes -= len(frame)
        return frame
