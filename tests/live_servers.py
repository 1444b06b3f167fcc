"""Real processes for the live-hub tests: our own redis-server and uvicorn `web` processes on free
loopback ports, stopped by pid; and a small WebSocket client that records what it receives."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import need_redis
from tests.people import Api
from workroom.clock import SystemClock
from tests.backends import free_port

SECRET = "live-hub-test-secret-" + "y" * 32


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


class RedisProcess:
    """Our own redis-server (never the shared one), which a test may kill and start again."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        need_redis()
        binary = shutil.which("redis-server") or "redis-server"
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, self.proc)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


class WebProcess:
    """One `web` process, as the Procfile runs it: uvicorn serving workroom.app."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path, *, ping_seconds: int = 5,
                 ws: str = "auto") -> None:
        self.name = name
        self.ping_seconds = ping_seconds
        self.ws_protocol = ws
        self.port = free_port()
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ws(self, token: str) -> str:
        return f"ws://127.0.0.1:{self.port}/ws?token={token}"

    def start(self) -> None:
        argv = [sys.executable, "-m", "uvicorn", "workroom.app:create_app", "--factory", "--host", "127.0.0.1",
                "--port", str(self.port), "--ws-max-size", str(1024 * 1024),
                "--ws-ping-interval", str(self.ping_seconds), "--ws-ping-timeout", str(self.ping_seconds),
                "--ws", self.ws_protocol, "--log-level", "warning", "--no-access-log"]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(argv, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        wait_port(self.port, self.proc)

    def sigkill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.sigkill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""


def web_env(database_url: str, redis_url: str | None, var_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WORKROOM_", "REDIS_URL", "DATABASE_URL"))}
    env.update({"DATABASE_URL": database_url, "WORKROOM_SECRET": SECRET, "WORKROOM_VAR_DIR": str(var_dir),
                "WORKROOM_REDIS_PREFIX": f"t{os.getpid()}-{free_port()}:", "WORKROOM_HUB_CHECK_MS": "500",
                "PYTHONUNBUFFERED": "1", **extra})
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def http_api(web: WebProcess) -> tuple[Api, httpx.AsyncClient]:
    """The tests' `Api` helper (real signed tokens, a room set up as the marketplace would),
    speaking real HTTP to a running process."""
    client = httpx.AsyncClient(base_url=web.http, timeout=30)
    stand_in = SimpleNamespace(settings=SimpleNamespace(secret=SECRET), clock=SystemClock())
    return Api(client, stand_in), client  # type: ignore[arg-type]


class LiveClient:
    """A WebSocket client that keeps every frame, and the events of each room by seq."""

    def __init__(self, url: str, **connect_kwargs: Any) -> None:
        self.url = url
        self.connect_kwargs = connect_kwargs
        self.ws: ClientConnection | None = None
        self.frames: list[dict[str, Any]] = []
        self.events: dict[str, list[int]] = {}
        self.bodies: dict[str, list[str]] = {}
        self.close_code: int | None = None
        self._reader: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    async def open(self, *, read: bool = True) -> "LiveClient":
        kwargs = {"compression": None, **self.connect_kwargs}
        self.ws = await connect(self.url, open_timeout=10, max_size=2**24, **kwargs)
        if read:
            self.start_reading()
        return self

    def start_reading(self) -> None:
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for message in self.ws:
                frame = json.loads(message)
                self.frames.append(frame)
                if frame.get("type") == "event":
                    self.events.setdefault(frame["room"], []).append(frame["seq"])
                    body = (frame.get("data") or {}).get("body")
                    if body is not None:
                        self.bodies.setdefault(frame["room"], []).append(body)
                self._changed.set()
        except ConnectionClosed:
            pass
        finally:
            self.close_code = self.ws.close_code if self.ws.close_code is not None else 1006
            self._changed.set()

    async def send(self, **op: Any) -> None:
        assert self.ws is not None
        await self.ws.send(json.dumps(op))

    async def wait_for(self, predicate: Any, timeout: float = 30.0) -> None:
        """Until predicate(self) holds; fails after `timeout` (a bound, not a measurement)."""
        deadline = time.monotonic() + timeout
        while not predicate(self):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out; last frames: {self.frames[-5:]}, close {self.close_code}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), min(remaining, 1.0))
            except asyncio.TimeoutError:
                pass

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [f for f in self.frames if f.get("type") == kind]

    async def subscribe(self, room: str, since: int | None = 0) -> dict[str, Any]:
        before = len(self.of_type("subscribed"))
        await self.send(op="subscribe", room=room, since=since)
        await self.wait_for(lambda c: len(c.of_type("subscribed")) > before or c.of_type("error"))
        subscribed = self.of_type("subscribed")
        assert len(subscribed) > before, self.frames[-3:]
        return subscribed[-1]

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)


class Cluster:
    """Our own Redis, one fresh PostgreSQL database, and any number of `web` processes on them."""

    def __init__(self, database_url: str, workdir: Path, *, with_redis: bool = True) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.redis = RedisProcess(workdir) if with_redis else None
        self.webs: list[WebProcess] = []
        self.prefix = f"t{os.getpid()}-{free_port()}:"

    def start_web(self, name: str, *, ping_seconds: int = 5, ws: str = "auto", **extra_env: str) -> WebProcess:
        env = web_env(self.database_url, self.redis.url if self.redis else None, self.workdir / "var",
                      WORKROOM_REDIS_PREFIX=self.prefix, **extra_env)
        web = WebProcess(name, env, self.workdir, ping_seconds=ping_seconds, ws=ws)
        self.webs.append(web)
        web.start()
        return web

    def stop(self) -> None:
        for web in self.webs:
            web.stop()
        if self.redis is not None:
            self.redis.kill()

    def logs(self) -> str:
        return "\n".join(f"--- {w.name}\n{w.log()}" for w in self.webs)
