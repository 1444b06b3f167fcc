"""The one source of time. Every rule reads `Clock.now()`; tests move a `TestClock`."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class TestClock:
    """A clock that only moves when told to; starts at the real time unless given one."""

    __test__ = False  # not a pytest test class

    def __init__(self, start: datetime | None = None) -> None:
        self._now = (start or datetime.now(timezone.utc)).astimezone(timezone.utc)

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("the test clock needs an aware datetime")
        self._now = when.astimezone(timezone.utc)

    def advance(self, delta: timedelta) -> None:
        self._now = self._now + delta


def utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def isoformat(value: datetime) -> str:
    """UTC, `Z`, microseconds unless the time is a whole second: `2026-03-02T09:00:00.250000Z`."""
    text = utc(value).isoformat(timespec="microseconds")  # ends in "+00:00"
    return text[:-6].removesuffix(".000000") + "Z"


def parse_iso(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)
