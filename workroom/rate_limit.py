"""A sliding-window counter per key (a reply token, a client IP, an account, a socket), read from
the injectable clock. Each process counts its own."""
from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from workroom.clock import Clock


class RateLimiter:
    def __init__(self, clock: Clock, limit: int, window: timedelta = timedelta(minutes=1)) -> None:
        self.clock = clock
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[datetime]] = {}

    def allow(self, key: str) -> bool:
        """Count one hit for `key`; False (and not counted) when the window is already full."""
        now = self.clock.now()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        if len(self._hits) > 100_000:  # forget idle keys so a scan of many addresses cannot grow memory
            self._hits = {k: v for k, v in self._hits.items() if v and v[-1] > now - self.window}
        return True

    def retry_after(self, key: str) -> float:
        """Seconds until `key` may be counted again (0 when it may now)."""
        hits = self._hits.get(key)
        if not hits or len(hits) < self.limit:
            return 0.0
        return max(0.0, (hits[0] + self.window - self.clock.now()).total_seconds())
