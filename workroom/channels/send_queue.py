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
        self._ready = asyncio.Event()

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
            self._ready.set()
            return False
        self._frames.append(frame)
        self.bytes += size
        if self.bytes > self.peak_bytes:
            self.peak_bytes = self.bytes
        self._ready.set()
        return True

    async def get(self) -> str | None:
        """The next frame to write; None once the queue overflowed (stop writing, close)."""
        while not self._frames:
            if self.overflowed:
                return None
            self._ready.clear()
            await self._ready.wait()
        if self.overflowed:
            return None
        frame = self._frames.popleft()
        self.bytes -= len(frame)
        return frame
