"""A socket's bounded outbox, in bytes: what the socket could not write at once.

Frames are shared (one per event per process), so the queue holds references; its bound is on the
bytes it would still have to write. Under pressure, ephemeral frames (typing, presence) are
dropped first; a stored event never is: past the bound the socket is given up (4008) and the
client resumes with `since`, losing nothing. A socket that keeps up never has anything queued, so
the deque is made only when a first frame has to wait.
"""

from __future__ import annotations

from collections import deque

from workroom.channels.frames import Outgoing


class SendQueue:
    __slots__ = ("limit", "bytes", "peak_bytes", "dropped_ephemeral", "overflowed", "_frames")

    def __init__(self, limit_bytes: int) -> None:
        self.limit = limit_bytes
        self.bytes = 0
        self.peak_bytes = 0
        self.dropped_ephemeral = 0
        self.overflowed = False
        self._frames: deque[Outgoing] | None = None

    @property
    def ephemeral_limit(self) -> int:
        return self.limit // 4

    def put(self, frame: Outgoing, *, ephemeral: bool = False) -> bool:
        """Queue a frame; False when the socket has fallen too far behind (close it with 4008)."""
        if self.overflowed:
            return False
        size = frame.size
        if ephemeral and self.bytes + size > self.ephemeral_limit:
            self.dropped_ephemeral += 1
            return True
        if self.bytes + size > self.limit:
            self.overflowed = True
            self._frames = None
            self.bytes = 0
            return False
        if self._frames is None:
            self._frames = deque()
        self._frames.append(frame)
        self.bytes += size
        if self.bytes > self.peak_bytes:
            self.peak_bytes = self.bytes
        return True

    def pop(self) -> Outgoing | None:
        """The next frame to write; None when there is none (or the queue overflowed)."""
        frames = self._frames
        if not frames:
            self._frames = None        # an emptied queue gives its memory back
            return None
        frame = frames.popleft()
        self.bytes -= frame.size
        return frame
