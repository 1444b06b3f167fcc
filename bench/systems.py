"""The three systems under test, each as two server processes on one Redis.

Process A takes the publishers, process B the subscribers, so every event crosses Redis.
Peers run from their own venvs in bench/out/ (built here from their requirements files);
Workroom runs from the project's venv (see bench.workroom_system).
"""
from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from bench.procs import OUT, ManagedProcess, free_port, rss_kb
from bench.wire import wire_for

PEERS = Path(__file__).resolve().parent / "peers"
UVICORN_ARGS = ["--host", "127.0.0.1", "--no-access-log", "--log-level", "warning",
                "--timeout-graceful-shutdown", "2"]


def ensure_venv(name: str, requirements: Path) -> Path:
    """bench/out/venv-<name> with the peer's requirements; rebuilt when they change."""
    venv = OUT / f"venv-{name}"
    stamp = venv / ".requirements.sha256"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return venv
    OUT.mkdir(parents=True, exist_ok=True)
    python = "python3" if sys.prefix != sys.base_prefix else sys.executable
    subprocess.run([python, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "-r", str(requirements)], check=True)
    stamp.write_text(digest)
    return venv


class System:
    name = "base"

    def __init__(self) -> None:
        self.a: ManagedProcess | None = None
        self.b: ManagedProcess | None = None

    # lifecycle -------------------------------------------------------------------------------
    def start(self, redis_url: str) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        for proc in (self.a, self.b):
            if proc is not None:
                proc.stop()

    def kill_b(self) -> None:
        assert self.b is not None
        self.b.kill()

    def pids(self) -> dict[str, int]:
        return {"A": self.a.pid, "B": self.b.pid}

    def rss_kb(self) -> int:
        return sum(rss_kb(pid) for pid in self.pids().values())

    # rooms and addresses ---------------------------------------------------------------------
    def make_rooms(self, count: int, tag: str, members: int) -> list[str]:
        """Room ids for a workload; peers accept any name, Workroom creates real rooms."""
        return [f"{tag}-{i:04d}" for i in range(count)]

    def token(self, room: str, publisher: bool) -> str | None:
        """Credentials for a socket in `room` (peers authenticate nobody)."""
        return None

    def sub_url(self, index: int, room: str) -> str:
        return wire_for(self.name).url(f"ws://127.0.0.1:{self.b.port}", self.token(room, False))

    def pub_url(self, index: int, room: str) -> str:
        return wire_for(self.name).url(f"ws://127.0.0.1:{self.a.port}", self.token(room, True))

    def fallback_url(self, index: int, room: str) -> str:
        """Where a subscriber of a killed B goes: A, with a subscriber's credentials."""
        return wire_for(self.name).url(f"ws://127.0.0.1:{self.a.port}", self.token(room, False))

    @property
    def resumes(self) -> bool:
        """Does the system let a client resume a room from a seq (subscribe since)?"""
        return False


class PeerSystem(System):
    folder = ""
    module = ""
    extra_env: dict[str, str] = {}

    def start(self, redis_url: str) -> None:
        venv = ensure_venv(self.name, PEERS / self.folder / "requirements.txt")
        env = {"PATH": f"{venv}/bin:/usr/bin:/bin", "REDIS_URL": redis_url, **self.extra_env}
        procs = []
        for label in ("A", "B"):
            port = free_port()
            argv = [str(venv / "bin" / "python"), "-m", "uvicorn", self.module, "--port", str(port),
                    *UVICORN_ARGS]
            procs.append(ManagedProcess(f"{self.name}-{label}", argv, env=env,
                                        cwd=PEERS / self.folder, port=port).start())
        self.a, self.b = procs


class ChannelsSystem(PeerSystem):
    name = "channels"
    folder = "channels_chat"
    module = "chat_asgi:application"
    extra_env = {"CHANNEL_LAYER": "pubsub"}


class SocketIOSystem(PeerSystem):
    name = "socketio"
    folder = "socketio_chat"
    module = "chat_asgi:app"


def system_for(name: str) -> System:
    if name == "channels":
        return ChannelsSystem()
    if name == "socketio":
        return SocketIOSystem()
    if name == "workroom":
        from bench.workroom_system import WorkroomSystem
        return WorkroomSystem()
    raise ValueError(f"unknown system {name!r}")
