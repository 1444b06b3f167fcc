"""Workroom as a system under test: two `web` processes (uvicorn, as the Procfile runs them) on a
PostgreSQL database of the bench's own and the bench's Redis.

Rooms are created through the HTTP API with a service token, as the marketplace would. In each
room, publishers post as the client and subscribers watch as the freelancer (one account may hold
many sockets; every socket is still authenticated and every op still checks membership). The
per-connection post limit is raised for the bench: its publishers post far faster than a person.
"""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import asyncpg
import httpx

from bench.procs import OUT, ManagedProcess, free_port
from bench.systems import UVICORN_ARGS, System
from workroom.auth import mint_token

SECRET = "bench-secret-" + "b" * 40
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "database": "test"}
ROOT = Path(__file__).resolve().parent.parent


class WorkroomSystem(System):
    name = "workroom"

    def __init__(self) -> None:
        super().__init__()
        self.database = f"wr_bench_{os.getpid()}"
        self.database_url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{self.database}"
        self.tokens: dict[str, tuple[str, str]] = {}     # room -> (client token, freelancer token)
        self.env: dict[str, str] = {}

    def start(self, redis_url: str) -> None:
        asyncio.run(self._admin(f'CREATE DATABASE "{self.database}"'))
        self.env = {**{k: v for k, v in os.environ.items() if not k.startswith("WORKROOM_")},
                    "DATABASE_URL": self.database_url, "REDIS_URL": redis_url, "WORKROOM_SECRET": SECRET,
                    "WORKROOM_VAR_DIR": str(OUT / "workroom-var"), "WORKROOM_REDIS_PREFIX": "bench:",
                    "WORKROOM_WS_POSTS_PER_WINDOW": "1000000", "WORKROOM_WS_OPS_PER_WINDOW": "1000000"}
        subprocess.run([sys.executable, "-c", "from workroom.cli import main; main(['migrate'])"],
                       env=self.env, check=True, cwd=ROOT, capture_output=True)
        procs = []
        for label in ("A", "B"):
            port = free_port()
            argv = [sys.executable, "-m", "uvicorn", "workroom.app:create_app", "--factory", "--port", str(port),
                    "--ws-max-size", "1048576", "--ws-ping-interval", "20", "--ws-ping-timeout", "20",
                    *UVICORN_ARGS]
            procs.append(ManagedProcess(f"workroom-{label}", argv, env=self.env, cwd=ROOT, port=port).start())
        self.a, self.b = procs

    def stop(self) -> None:
        super().stop()
        try:
            asyncio.run(self._admin(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))
        except Exception as exc:  # never leave the run without its figures for a cleanup failure
            print(f"[bench] could not drop {self.database}: {exc}")

    @staticmethod
    async def _admin(sql: str) -> None:
        conn = await asyncpg.connect(**PG)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    def versions(self) -> dict[str, str]:
        from importlib.metadata import version
        return {p: version(p) for p in ("starlette", "uvicorn", "websockets", "redis", "SQLAlchemy", "asyncpg")}

    @property
    def resumes(self) -> bool:
        return True

    def _mint(self, email: str, role: str = "member") -> str:
        return mint_token(SECRET, sub=email, email=email, name=email.split("@")[0], role=role,
                          now=datetime.now(timezone.utc), ttl=timedelta(days=2))

    def make_rooms(self, count: int, tag: str, members: int) -> list[str]:
        return asyncio.run(self._make_rooms(count, tag))

    async def _make_rooms(self, count: int, tag: str) -> list[str]:
        market = self._mint("market@bench.example", "service")
        run = f"{tag}{os.getpid()}{free_port()}"
        gate = asyncio.Semaphore(8)

        async def one(http: httpx.AsyncClient, i: int) -> str:
            client, freelancer = f"c{i}-{run}@bench.example", f"f{i}-{run}@bench.example"
            async with gate:
                response = await http.post("/api/rooms", headers={"Authorization": f"Bearer {market}"}, json={
                    "title": f"bench {tag} {i}", "kind": "fixed", "currency": "USD", "milestones": [],
                    "client": {"email": client, "name": "Bench Client"},
                    "freelancer": {"email": freelancer, "name": "Bench Freelancer"}})
            response.raise_for_status()
            room = response.json()["id"]
            self.tokens[room] = (self._mint(client), self._mint(freelancer))
            return room

        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.a.port}", timeout=60) as http:
            first = await one(http, 0)     # alone: it creates the marketplace's account on first sight
            return [first, *await asyncio.gather(*(one(http, i) for i in range(1, count)))]

    def token(self, room: str, publisher: bool) -> str | None:
        client, freelancer = self.tokens[room]
        return client if publisher else freelancer
