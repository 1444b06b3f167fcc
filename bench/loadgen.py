"""The coordinator's handle on its subscriber worker processes, and CPU accounting."""
from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
from pathlib import Path
from typing import Any

from bench.procs import cpu_seconds
from bench.subscribers import ConnSpec, worker_main


class Workers:
    """N worker processes (bench.subscribers) each holding a share of the subscriber sockets."""

    def __init__(self, system: str, count: int) -> None:
        ctx = mp.get_context("spawn")
        self.pipes = []
        self.procs = []
        for _ in range(count):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=worker_main, args=(system, child), daemon=True)
            proc.start()
            self.pipes.append(parent)
            self.procs.append(proc)

    async def _call(self, pipe: Any, command: str, arg: Any, timeout: float) -> Any:
        loop = asyncio.get_running_loop()
        pipe.send((command, arg))
        ready = await loop.run_in_executor(None, pipe.poll, timeout)
        if not ready:
            raise TimeoutError(f"worker did not answer {command!r} in {timeout}s")
        return pipe.recv()

    async def all(self, command: str, arg: Any = None, timeout: float = 240.0) -> list[Any]:
        return list(await asyncio.gather(*(self._call(p, command, arg, timeout) for p in self.pipes)))

    async def connect(self, specs: list[ConnSpec]) -> dict:
        shares = [specs[i::len(self.pipes)] for i in range(len(self.pipes))]
        replies = await asyncio.gather(*(self._call(p, "connect", share, 240.0)
                                         for p, share in zip(self.pipes, shares)))
        return {"connected": sum(r["connected"] for r in replies),
                "wanted": sum(r["wanted"] for r in replies),
                "errors": [e for r in replies for e in r["errors"]][:5]}

    async def snapshot(self) -> tuple[int, list[int]]:
        replies = await self.all("snapshot")
        return (sum(r["deliveries"] for r in replies),
                [v for r in replies for v in r["latencies_us"]])

    async def check(self, expected: dict[str, int]) -> dict:
        replies = await self.all("check", expected)
        total: dict[str, Any] = {"close_codes": {}}
        for r in replies:
            for key, value in r.items():
                if key == "close_codes":
                    for code, n in value.items():
                        total["close_codes"][code] = total["close_codes"].get(code, 0) + n
                elif key.endswith("_max"):
                    total[key] = max(total.get(key, 0), value)
                else:
                    total[key] = total.get(key, 0) + value
        return total

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self.all("close", timeout=30), 40)
        except Exception:
            pass
        for proc in self.procs:
            proc.join(5)
            if proc.is_alive():
                proc.kill()


class CpuMeter:
    """CPU seconds spent by each named process between two readings, and machine idle."""

    def __init__(self, pids: dict[str, list[int]]) -> None:
        self.pids = pids
        self.start = self._read()

    def _read(self) -> dict[str, float]:
        out = {name: sum(cpu_seconds(pid) for pid in pids) for name, pids in self.pids.items()}
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        ticks = os.sysconf("SC_CLK_TCK")
        out["_idle"] = (int(fields[3]) + int(fields[4])) / ticks
        out["_total"] = sum(int(f) for f in fields[:8]) / ticks
        return out

    def lap(self) -> dict[str, float]:
        now = self._read()
        delta = {k: round(now[k] - self.start.get(k, 0.0), 2) for k in now}
        self.start = now
        total = delta.pop("_total") or 1.0
        delta["machine_busy_pct"] = round(100.0 * (1 - delta.pop("_idle") / total), 1)
        return delta
