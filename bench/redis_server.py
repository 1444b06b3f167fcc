"""The bench's own redis-server on a free loopback port (never the shared one on 6379)."""
from __future__ import annotations

import shutil
import time

from bench.procs import ManagedProcess, free_port


class OwnRedis:
    def __init__(self) -> None:
        self.port = free_port()
        self.binary = shutil.which("redis-server") or "redis-server"
        self.process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--maxclients", "20000", "--protected-mode", "yes"]
        self.process = ManagedProcess(f"redis-{self.port}", argv, port=self.port).start()

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()

    def restart(self, down_seconds: float) -> tuple[float, float]:
        """Kill, stay down, start again on the same port; returns (down_at, up_at) as time.time()."""
        down_at = time.time()
        self.kill()
        time.sleep(down_seconds)
        self.start()
        return down_at, time.time()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
