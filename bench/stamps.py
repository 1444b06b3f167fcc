"""What every post carries and what every subscriber checks.

A post's body is `p<pseq> t<send_ns> <padding>`: `pseq` is the publisher's own per-room counter
(1, 2, 3, ...), the same for every system, so loss, duplicates and order are checked the same
way whether or not the system stores a `seq` of its own; `send_ns` is time.time_ns() at send.
"""
from __future__ import annotations

import time


def make_body(pseq: int, padding: str) -> str:
    return f"p{pseq} t{time.time_ns()} {padding}"


def read_body(body: str) -> tuple[int, int]:
    p, t, _ = body.split(" ", 2)
    return int(p[1:]), int(t[1:])


class RoomSequence:
    """Which pseqs of one room one connection has seen; counts duplicates and out-of-order."""

    __slots__ = ("seen", "highest", "duplicates", "out_of_order", "received")

    def __init__(self) -> None:
        self.seen = bytearray(1024)
        self.highest = 0
        self.duplicates = 0
        self.out_of_order = 0
        self.received = 0

    def record(self, pseq: int) -> None:
        if pseq >= len(self.seen):
            self.seen.extend(bytes(max(pseq + 1 - len(self.seen), len(self.seen))))
        if self.seen[pseq]:
            self.duplicates += 1
            return
        self.seen[pseq] = 1
        self.received += 1
        if pseq < self.highest:
            self.out_of_order += 1
        else:
            self.highest = pseq

    def missing(self, expected: int) -> int:
        upto = min(expected + 1, len(self.seen))
        return expected - self.seen.count(1, 1, upto) if expected > 0 else 0


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]
