"""W1-W5: what the bench does to one system. Each returns plain dicts for results.json.

Geometry: publishers on process A, subscribers on process B (W1 spreads idle sockets over both).
Every loop is bounded in count and in time; all traffic goes to 127.0.0.1.
"""
from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from typing import Any

from bench.loadgen import CpuMeter, Workers
from bench.publishers import Publishers
from bench.redis_server import OwnRedis
from bench.stamps import percentile
from bench.subscribers import ConnSpec
from bench.systems import System
from bench.wire import wire_for


@dataclass
class Sizes:
    idle_steps: tuple[int, ...] = (1000, 5000, 10000)
    rooms: int = 100
    subs_per_room: int = 50
    w2_rates: tuple[int, ...] = (20, 50, 100, 200, 300, 500, 700, 1000, 1500)   # posts/s
    big_room: int = 5000
    w3_rates: tuple[int, ...] = (1, 2, 5, 10, 20)
    step_seconds: float = 6.0
    drain_seconds: float = 10.0
    w4_rate: int = 200
    w4_padding: int = 1024
    w4_seconds: float = 20.0
    w5_rate: int = 100
    w5_seconds: float = 16.0
    workers: int = 2

    @classmethod
    def quick(cls) -> "Sizes":
        return cls(idle_steps=(200, 500), rooms=10, subs_per_room=10, w2_rates=(20, 100, 400),
                   big_room=300, w3_rates=(5, 20), step_seconds=3.0, drain_seconds=5.0,
                   w4_rate=50, w4_seconds=6.0, w5_rate=50, w5_seconds=8.0)


def _latency(samples_us: list[int]) -> dict[str, float]:
    ordered = sorted(samples_us)
    return {"p50_ms": round(percentile(ordered, 0.50) / 1000, 2),
            "p99_ms": round(percentile(ordered, 0.99) / 1000, 2),
            "max_ms": round(ordered[-1] / 1000, 2) if ordered else float("nan")}


class Bench:
    def __init__(self, system: System, redis: OwnRedis, sizes: Sizes) -> None:
        self.system = system
        self.redis = redis
        self.sizes = sizes
        self.wire = wire_for(system.name)
        self.sustained_rate: int | None = None   # W2's highest clean posts/s, once measured

    def _load_rate(self, wanted: int) -> int:
        """W4 and W5 load each system at most at half the post rate it sustained in W2 (p99 < 1 s,
        nothing lost): they measure slow readers and faults, not overload."""
        if self.sustained_rate is None:
            return wanted
        return max(10, min(wanted, self.sustained_rate // 2))

    def _cpu(self, workers: Workers) -> CpuMeter:
        return CpuMeter({"server_A": [self.system.a.pid], "server_B": [self.system.b.pid],
                         "redis": [self.redis.process.pid], "loadgen_subscribers": workers.pids(),
                         "loadgen_publishers": [os.getpid()]})

    def _specs(self, rooms: list[str], per_room: int, *, slow_every: int = 0,
               reconnect: bool = False, start: int = 0) -> list[ConnSpec]:
        specs = []
        for r, room in enumerate(rooms):
            for k in range(per_room):
                i = start + r * per_room + k
                specs.append(ConnSpec(self.system.sub_url(i, room), self.system.fallback_url(i, room), [room],
                                      slow=bool(slow_every) and i % slow_every == slow_every - 1,
                                      reconnect=reconnect,
                                      resume=reconnect and self.system.resumes))
        return specs

    async def _drain(self, workers: Workers, want: int,
                     hard_seconds: float | None = None) -> tuple[int, list[int], float]:
        """Collect deliveries until `want` arrived or nothing came for drain_seconds (bounded).

        Returns (delivered, latency samples, time of the last delivery seen).
        """
        got, samples = 0, []
        last_progress = time.monotonic()
        hard_stop = last_progress + (hard_seconds or 6 * self.sizes.drain_seconds)
        while got < want and time.monotonic() < hard_stop:
            await asyncio.sleep(0.25)
            n, lat = await workers.snapshot()
            got += n
            samples += lat
            if n:
                last_progress = time.monotonic()
            elif time.monotonic() - last_progress > self.sizes.drain_seconds:
                break
        return got, samples, last_progress

    # W1 ----------------------------------------------------------------------------------------
    async def w1_idle(self) -> dict:
        rooms = await asyncio.to_thread(self.system.make_rooms, self.sizes.rooms, "w1", self.sizes.subs_per_room)
        workers = Workers(self.system.name, self.sizes.workers)
        await asyncio.sleep(2.0)
        baseline = self.system.rss_kb()
        out: dict[str, Any] = {"baseline_rss_kb": baseline, "steps": []}
        have = connected = 0
        try:
            for target in self.sizes.idle_steps:
                specs = []
                for i in range(have, target):
                    room = rooms[i % len(rooms)]
                    url = self.system.sub_url(i, room) if i % 2 else self.system.fallback_url(i, room)
                    specs.append(ConnSpec(url, url, [room]))
                t0 = time.monotonic()
                result = await workers.connect(specs)
                connected += result["connected"]
                have = target
                await asyncio.sleep(3.0)
                rss = self.system.rss_kb()
                out["steps"].append({
                    "connections": target, "connected": connected,
                    "connect_seconds": round(time.monotonic() - t0, 1), "rss_kb": rss,
                    "kb_per_connection": round((rss - baseline) / max(1, target), 1),
                    "errors": result["errors"]})
                if result["connected"] < result["wanted"]:
                    break
        finally:
            await workers.close()
        return out

    # W2 / W3: step the publish rate up ----------------------------------------------------------
    async def step_up(self, tag: str, room_count: int, per_room: int, rates: tuple[int, ...]) -> dict:
        rooms = await asyncio.to_thread(self.system.make_rooms, room_count, tag, per_room)
        workers = Workers(self.system.name, self.sizes.workers)
        publishers = Publishers(self.wire, {room: self.system.pub_url(i, room) for i, room in enumerate(rooms)})
        out: dict[str, Any] = {"rooms": room_count, "subscribers_per_room": per_room, "steps": []}
        try:
            connected = await workers.connect(self._specs(rooms, per_room))
            out["connected"] = connected
            if connected["connected"] < connected["wanted"]:
                return out
            await publishers.open()
            cpu = self._cpu(workers)
            for rate in rates:
                await workers.snapshot()
                cpu.lap()
                t0 = time.monotonic()
                sent = await publishers.run(rate, self.sizes.step_seconds)
                got, samples, t_end = await self._drain(workers, sent["sent"] * per_room)
                check = await workers.check(publishers.expected())
                lost = check["missing"]
                step = {"posts_per_s": rate, "sent": sent["sent"], "delivered": got,
                        "deliveries_per_s": round(got / max(1e-9, t_end - t0)),
                        "offered_deliveries_per_s": rate * per_room,
                        **_latency(samples), "lost_total": lost,
                        "duplicates_total": check["duplicates"],
                        "out_of_order_total": check["out_of_order"],
                        "rss_kb": self.system.rss_kb(), "cpu_s": cpu.lap(),
                        "publisher_errors": publishers.errors()[:3]}
                out["steps"].append(step)
                if step["p99_ms"] > 1000 or lost or check["duplicates"] or check["out_of_order"]:
                    break
        finally:
            await publishers.close()
            await workers.close()
        return out

    async def w2(self) -> dict:
        s = self.sizes
        out = await self.step_up("w2", s.rooms, s.subs_per_room, s.w2_rates)
        clean = [st["posts_per_s"] for st in out.get("steps", [])
                 if st["p99_ms"] <= 1000 and not st["lost_total"] and not st["duplicates_total"]
                 and not st["out_of_order_total"]]
        if clean:
            self.sustained_rate = max(clean)
        return out

    async def w3(self) -> dict:
        return await self.step_up("w3", 1, self.sizes.big_room, self.sizes.w3_rates)

    # W4: 1% slow readers --------------------------------------------------------------------------
    async def w4_slow(self) -> dict:
        s = self.sizes
        rooms = await asyncio.to_thread(self.system.make_rooms, s.rooms, "w4", s.subs_per_room)
        workers = Workers(self.system.name, s.workers)
        publishers = Publishers(self.wire, {room: self.system.pub_url(i, room) for i, room in enumerate(rooms)},
                                padding_bytes=s.w4_padding)
        out: dict[str, Any] = {"slow_readers": (s.rooms * s.subs_per_room) // 100}
        try:
            out["connected"] = await workers.connect(self._specs(rooms, s.subs_per_room, slow_every=100))
            await publishers.open()
            await workers.snapshot()
            rss_before = self.system.rss_kb()
            rss_peak = rss_before
            t0 = time.monotonic()
            rate = self._load_rate(s.w4_rate)
            runner = asyncio.create_task(publishers.run(rate, s.w4_seconds))
            samples: list[int] = []
            got = 0
            while not runner.done():
                await asyncio.sleep(0.5)
                rss_peak = max(rss_peak, self.system.rss_kb())
                n, lat = await workers.snapshot()
                got += n
                samples += lat
            sent = runner.result()
            normal = (s.rooms * s.subs_per_room) - out["slow_readers"]
            more, lat, t_end = await self._drain(workers, sent["sent"] * s.subs_per_room - got)
            got += more
            samples += lat
            check = await workers.check(publishers.expected())
            out.update({"posts_per_s": rate, "body_bytes": s.w4_padding, "sent": sent["sent"],
                        "delivered_to_normal": got, "deliveries_per_s": round(got / (t_end - t0)),
                        **_latency(samples), "lost_normal": check["missing"],
                        "duplicates": check["duplicates"], "out_of_order": check["out_of_order"],
                        "slow_close_codes": check["close_codes"], "normal_readers": normal,
                        "rss_before_kb": rss_before, "rss_peak_kb": rss_peak})
        finally:
            await publishers.close()
            await workers.close()
        return out

    # W5: Redis restart, then a server kill, under load --------------------------------------------
    async def _fault_run(self, tag: str, fault: str) -> dict:
        s = self.sizes
        rooms = await asyncio.to_thread(self.system.make_rooms, s.rooms, tag, s.subs_per_room)
        workers = Workers(self.system.name, s.workers)
        publishers = Publishers(self.wire, {room: self.system.pub_url(i, room) for i, room in enumerate(rooms)})
        rate = self._load_rate(s.w5_rate)
        out: dict[str, Any] = {"fault": fault, "posts_per_s": rate}
        try:
            out["connected"] = await workers.connect(self._specs(rooms, s.subs_per_room, reconnect=True))
            await publishers.open()
            await workers.snapshot()
            runner = asyncio.create_task(publishers.run(rate, s.w5_seconds))
            await asyncio.sleep(s.w5_seconds / 4)
            loop = asyncio.get_running_loop()
            if fault == "redis_restart":
                down_at, up_at = await loop.run_in_executor(None, self.redis.restart, 1.0)
                out["redis_down_s"] = round(up_at - down_at, 2)
                mark = int(up_at * 1e9)
            else:
                mark = time.time_ns()
                await loop.run_in_executor(None, self.system.kill_b)
            await workers.all("mark", mark)
            sent = await runner
            # after a kill, 5,000 clients reconnect and resume: give them time (bounded)
            got, _, _ = await self._drain(workers, sent["sent"] * s.subs_per_room, hard_seconds=240)
            check = await workers.check(publishers.expected())
            recovered = check.get("first_after_mark_max", 0)
            out.update({"sent": sent["sent"], "delivered": got, "lost": check["missing"],
                        "duplicates": check["duplicates"], "out_of_order": check["out_of_order"],
                        "reconnects": check["reconnects"],
                        "subscribers_never_recovered": check["never_after_mark"],
                        "seconds_until_all_receive_again": round((recovered - mark) / 1e9, 2) if recovered else None,
                        "publisher_errors": publishers.errors()[:3]})
            if fault == "kill_b" and check.get("resubscribed_at_max"):
                out["seconds_until_all_resubscribed"] = round((check["resubscribed_at_max"] - mark) / 1e9, 2)
        finally:
            await publishers.close()
            await workers.close()
        return out

    async def w5(self) -> dict:
        out: dict[str, Any] = {}
        for tag, fault, name in (("w5r", "redis_restart", "redis_restart"), ("w5k", "kill_b", "server_kill")):
            try:   # each fault on its own clock: one that times out keeps the other's figures
                out[name] = await asyncio.wait_for(self._fault_run(tag, fault), 400)
            except Exception as exc:
                out[name] = {"error": f"{type(exc).__name__}: {exc}"}
        return out
