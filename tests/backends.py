"""Real databases for the tests: a migrated SQLite file copied per test, and (when PostgreSQL
answers) a PostgreSQL database cloned per test from a migrated template. Each test session
creates its own uniquely named databases and drops them at exit, so parallel runs never meet."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import uuid
from pathlib import Path

import asyncpg

PG_HOST = os.environ.get("WORKROOM_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("WORKROOM_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("WORKROOM_TEST_PG_USER", "postgres")
PG_ADMIN_DB = os.environ.get("WORKROOM_TEST_PG_DB", "test")
RUN_ID = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"

# CI must prove PostgreSQL and Redis paths; a laptop without them skips those tests, loudly.
REQUIRE_SERVICES = os.environ.get("WORKROOM_REQUIRE_SERVICES") == "1"


def free_port() -> int:
    """A loopback port nothing listens on now, for the servers a test starts."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def postgres_available() -> bool:
    return port_open(PG_HOST, PG_PORT)


def redis_available() -> bool:
    """Tests that need Redis start their own `redis-server` (and may kill it), never the shared one."""
    return shutil.which("redis-server") is not None


def pg_url(database: str) -> str:
    return f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"


async def _admin() -> asyncpg.Connection:
    return await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database=PG_ADMIN_DB)


class PostgresDatabases:
    """One migrated PostgreSQL database per test session, emptied before each test: that costs
    milliseconds where CREATE/DROP DATABASE costs a second or two per test."""

    def __init__(self) -> None:
        self.name = f"wr_{RUN_ID}"
        self._ready = False

    @property
    def url(self) -> str:
        return pg_url(self.name)

    async def _ensure(self) -> None:
        from workroom.db.migrate import upgrade

        if self._ready:
            return
        conn = await _admin()
        try:
            await conn.execute(f'CREATE DATABASE "{self.name}"')
        finally:
            await conn.close()
        await asyncio.to_thread(upgrade, self.url)
        self._ready = True

    async def fresh(self) -> str:
        """The session's database with every table empty (the schema and Alembic's version kept)."""
        await self._ensure()
        conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database=self.name)
        try:
            # A connection a failed test leaked must not block the TRUNCATE's exclusive lock.
            await conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE datname = current_database() AND pid <> pg_backend_pid()")
            tables = [r["tablename"] for r in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")]
            # DELETE beats TRUNCATE on tables this small (no new files per table); replica mode
            # skips the foreign-key triggers so the order does not matter.
            await conn.execute("SET session_replication_role = replica; "
                               + " ".join(f'DELETE FROM "{t}";' for t in tables))
        finally:
            await conn.close()
        return self.url

    async def release(self, url: str) -> None:
        """Nothing to drop per test: the next `fresh` empties the tables."""

    async def drop_all(self) -> None:
        if not self._ready:
            return
        conn = await _admin()
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        finally:
            await conn.close()


class SqliteDatabases:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.template = root / "template.db"
        self.count = 0

    def fresh(self) -> str:
        if not self.template.exists():
            from workroom.db.migrate import upgrade

            self.root.mkdir(parents=True, exist_ok=True)
            upgrade(f"sqlite+aiosqlite:///{self.template}")
        self.count += 1
        path = self.root / f"t{self.count}.db"
        shutil.copyfile(self.template, path)
        return f"sqlite+aiosqlite:///{path}"
