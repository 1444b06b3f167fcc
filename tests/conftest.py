"""Fixtures: real SQLite and PostgreSQL databases, the services on a test clock, an HTTP client
speaking to the real ASGI app, and an `Api` helper that acts as named people with real tokens."""

from __future__ import annotations

import asyncio
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

import httpx
import pytest

from tests.backends import (
    REQUIRE_SERVICES, PostgresDatabases, SqliteDatabases, postgres_available, redis_available,
)
from tests.people import Api
from workroom.app import create_app
from workroom.clock import TestClock
from workroom.config import Settings
from workroom.services import Services

START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
_skipped_services: set[str] = set()


@pytest.fixture(scope="session")
def tmp_root() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="workroom-tests-") as root:
        yield Path(root)


@pytest.fixture(scope="session")
def sqlite_dbs(tmp_root: Path) -> SqliteDatabases:
    return SqliteDatabases(tmp_root / "sqlite")


_pg = PostgresDatabases()


@pytest.fixture(scope="session")
def pg_dbs() -> PostgresDatabases:
    return _pg


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    import asyncio

    if _pg._ready:
        asyncio.run(_pg.drop_all())


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _skipped_services:
        terminalreporter.write_line(
            "NOTE: missing here, so their tests were SKIPPED: " + ", ".join(sorted(_skipped_services))
            + ". Install or start them (see .ci/run) to run the full suite.", yellow=True)


def missing(service: str, hint: str) -> None:
    """A real part this test needs is not here: fail in CI, skip (and say so at the end) elsewhere."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{service} is required (WORKROOM_REQUIRE_SERVICES=1) but missing: {hint}")
    _skipped_services.add(service)
    pytest.skip(f"{service} is missing: {hint}")


def need_postgres() -> None:
    if not postgres_available():
        missing("PostgreSQL (127.0.0.1:5432)", "not answering")


def need_redis() -> None:
    if not redis_available():
        missing("Redis (redis-server)", "not installed; the tests run their own instance")


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, sqlite_dbs: SqliteDatabases,
                       pg_dbs: PostgresDatabases) -> AsyncIterator[str]:
    """Each test that takes this runs once on SQLite and once on PostgreSQL, on a fresh database."""
    if request.param == "sqlite":
        yield await asyncio.to_thread(sqlite_dbs.fresh)
        return
    need_postgres()
    url = await pg_dbs.fresh()
    yield url
    await pg_dbs.release(url)


@pytest.fixture
async def postgres_url(pg_dbs: PostgresDatabases) -> AsyncIterator[str]:
    """A fresh PostgreSQL database, for the tests that are about PostgreSQL's concurrency."""
    need_postgres()
    url = await pg_dbs.fresh()
    yield url
    await pg_dbs.release(url)


def make_settings(database_url: str, var_dir: Path, **overrides: str) -> Settings:
    env = {
        "DATABASE_URL": database_url,
        "WORKROOM_VAR_DIR": str(var_dir),
        "WORKROOM_SECRET": "test-secret-" + "x" * 40,
        "WORKROOM_TEST_CLOCK": "1",
        "WORKROOM_BASE_URL": "http://testserver",
        **overrides,
    }
    return Settings.from_env(env)


@pytest.fixture
def settings_overrides() -> dict[str, str]:
    """Override in a test module to change settings (e.g. a small upload limit)."""
    return {}


@pytest.fixture
async def services(database_url: str, tmp_path: Path, settings_overrides: dict[str, str]) -> AsyncIterator[Services]:
    svc = Services(make_settings(database_url, tmp_path / "var", **settings_overrides), clock=TestClock(START))
    await svc.start()
    yield svc
    await svc.stop()


@pytest.fixture
async def http(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(services=services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def api(http: httpx.AsyncClient, services: Services) -> Api:
    return Api(http, services)


@pytest.fixture
async def smtp_port(services: Services) -> AsyncIterator[int]:
    """The inbound SMTP bridge on a free loopback port, for the email tests."""
    from workroom.email_bridge.smtp_server import InboundSmtpServer

    server = InboundSmtpServer(services)
    port = await server.start("127.0.0.1", 0)
    yield port
    await server.stop()


@pytest.fixture
async def pg_services(postgres_url: str, tmp_path: Path) -> AsyncIterator[Services]:
    """Services on PostgreSQL only, for the tests that are about PostgreSQL's concurrency."""
    svc = Services(make_settings(postgres_url, tmp_path / "var"), clock=TestClock(START))
    await svc.start()
    yield svc
    await svc.stop()


@pytest.fixture
async def pg_api(pg_services: Services) -> AsyncIterator[Api]:
    transport = httpx.ASGITransport(app=create_app(services=pg_services))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client, pg_services)


os.environ.setdefault("WORKROOM_TESTING", "1")
