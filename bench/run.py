"""`python -m bench.run`: start our own Redis, then each system in turn, run W1-W5, report.

Writes bench/out/results.json and bench/out/results.md (the tables RESULTS.md quotes).
Never touches the shared Redis on 6379: the bench's redis-server runs on a free port.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path

from bench.procs import OUT, raise_nofile
from bench.redis_server import OwnRedis
from bench.report import render
from bench.systems import system_for
from bench.workloads import Bench, Sizes

WORKLOADS = {"W1": "w1_idle", "W2": "w2", "W3": "w3", "W4": "w4_slow", "W5": "w5"}
TIMEOUT = {"W1": 600, "W2": 600, "W3": 400, "W4": 400, "W5": 900}


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    redis = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.strip()
    return {"cpu": cpu, "cores": len(__import__("os").sched_getaffinity(0)),
            "memory_gb": round(mem_kb / 2**20, 1), "kernel": platform.release(),
            "python": sys.version.split()[0], "redis": redis}


async def run_system(name: str, redis: OwnRedis, workloads: list[str], sizes: Sizes) -> dict:
    system = system_for(name)
    result: dict = {}
    await asyncio.get_running_loop().run_in_executor(None, system.start, redis.url)
    try:
        result["versions"] = getattr(system, "versions", lambda: {})()
        bench = Bench(system, redis, sizes)
        for workload in workloads:
            print(f"[bench] {name} {workload} ...", flush=True)
            t0 = time.monotonic()
            try:
                result[workload] = await asyncio.wait_for(getattr(bench, WORKLOADS[workload])(),
                                                          TIMEOUT[workload])
            except Exception as exc:  # one broken workload must not hide the others' figures
                result[workload] = {"error": f"{type(exc).__name__}: {exc}",
                                    "trace": traceback.format_exc()[-2000:]}
            print(f"[bench] {name} {workload} done in {time.monotonic() - t0:.0f}s: "
                  f"{json.dumps(result[workload])[:300]}", flush=True)
    finally:
        await asyncio.to_thread(system.stop)
    return result


async def main_async(args: argparse.Namespace) -> int:
    sizes = Sizes.quick() if args.quick else Sizes()
    if args.workers:
        sizes.workers = args.workers
    if args.step_seconds:
        sizes.step_seconds = args.step_seconds
    if args.w3_rates:
        sizes.w3_rates = tuple(int(r) for r in args.w3_rates.split(","))
    if args.w4_rate:
        sizes.w4_rate = args.w4_rate
    if args.w5_rate:
        sizes.w5_rate = args.w5_rate
    if args.w2_rates:
        sizes.w2_rates = tuple(int(r) for r in args.w2_rates.split(","))
    workloads = [w.strip().upper() for w in args.workloads.split(",")]
    systems = [s.strip() for s in args.systems.split(",")]
    out = {"machine": machine(), "command": " ".join(sys.argv), "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "quick": args.quick, "sizes": sizes.__dict__, "systems": {}}
    for name in systems:
        redis = OwnRedis()        # a fresh one per system: nothing left over from the last
        redis.start()
        try:
            out["systems"][name] = await run_system(name, redis, workloads, sizes)
        finally:
            redis.stop()
        Path(args.out).write_text(json.dumps(out, indent=1))
    Path(args.out).write_text(json.dumps(out, indent=1))
    markdown = render(out)
    Path(args.out).with_suffix(".md").write_text(markdown)
    print(markdown)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description="Workroom live-hub benchmark against its peers")
    parser.add_argument("--systems", default="workroom,channels,socketio")
    parser.add_argument("--workloads", default="W1,W2,W3,W4,W5")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--workers", type=int, default=0, help="subscriber load-generator processes")
    parser.add_argument("--step-seconds", type=float, default=0.0, help="seconds per W2/W3 rate step")
    parser.add_argument("--w2-rates", default="", help="W2 posts/s steps, e.g. 20,50,100")
    parser.add_argument("--w3-rates", default="", help="W3 posts/s steps, e.g. 1,2,5")
    parser.add_argument("--w4-rate", type=int, default=0, help="W4 posts/s (when W2 is not run first)")
    parser.add_argument("--w5-rate", type=int, default=0, help="W5 posts/s (when W2 is not run first)")
    parser.add_argument("--out", default=str(OUT / "results.json"))
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"[bench] open files limit {raise_nofile()}", flush=True)
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
