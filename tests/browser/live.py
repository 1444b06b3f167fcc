"""A real Workroom server for browser tests: `workroom serve` in a subprocess on a free port,
on its own SQLite file and upload folder, with the test clock on. It can be stopped and started
again on the same port and database (the restart test)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx

from workroom.config import Settings
from tests.backends import free_port

SECRET = "browser-test-secret-" + "y" * 40


class LiveServer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DATABASE_URL": f"sqlite+aiosqlite:///{root / 'workroom.db'}",
            "WORKROOM_VAR_DIR": str(root / "var"),
            "WORKROOM_SECRET": SECRET,
            "WORKROOM_TEST_CLOCK": "1",
            "WORKROOM_BASE_URL": self.url,
        }
        self.env.pop("REDIS_URL", None)
        self.settings = Settings.from_env({k: v for k, v in self.env.items() if k.startswith(("WORKROOM_", "DATABASE_"))})
        self.process: subprocess.Popen[bytes] | None = None
        self.log = root / "server.log"

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "workroom.cli", "serve", "--port", str(self.port)],
                env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server did not answer in 30 s: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


class RemoteServices:
    """What `tests.people.Api` needs of the services when the server is another process: the
    secret that signs tokens, and a clock (the server's test clock starts at the real time)."""

    class _Clock:
        def now(self) -> datetime:
            return datetime.now(timezone.utc)

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.clock = self._Clock()
