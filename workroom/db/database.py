"""The async engine and sessions, for SQLite (embedded) and PostgreSQL (scaled)."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator

import asyncpg
from sqlalchemy import Connection, Select, event, exc, text
from sqlalchemy.ext.asyncio import (AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker,
                                    create_async_engine)
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

from workroom.db.session_on_demand import SessionOnDemand


class Database:
    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {}
        if self.is_sqlite:
            path = url.split(":///", 1)[1] if ":///" in url else ""
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size * 2)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            _serialize_sqlite_writers(self.engine)
        else:
            _drop_closed_connections(self.engine)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # Sessions that send no transaction statements of their own: reads on SQLite, which then take
        # no write lock (see below), and every session on PostgreSQL, whose transaction is the driver's.
        self.autocommit: AsyncEngine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._sqlite_writer = asyncio.Lock()

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[None]:
        """Around every write transaction. SQLite has one writer: this process's writers queue here
        and each starts the moment the one before commits, instead of waiting in SQLite's busy
        handler, which sleeps in steps of up to 100 ms. PostgreSQL locks rows: nothing to do."""
        if not self.is_sqlite:
            yield
            return
        async with self._sqlite_writer:
            yield

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[tuple[SessionOnDemand, asyncpg.Connection | None]]:
        """A new transaction: its session, opened when first asked for (`SessionOnDemand`), and on
        PostgreSQL its driver connection (`workroom.db.driver`). Committed when the block ends,
        rolled back if it raises.

        On PostgreSQL the transaction is the driver's own, on a connection straight from the pool:
        `BEGIN` before the block, so that a driver statement may be its first, and `COMMIT` after
        the ORM's last flush. A session opens on that same connection in autocommit mode, which
        sends no `BEGIN` or `COMMIT` of its own."""
        if self.is_sqlite:
            async with self.writing(), self.sessions() as session, session.begin():
                yield SessionOnDemand(self.engine.dialect, session=session), None
            return
        pooled = await _Pooled.check_out(self)
        try:
            # Plain statements rather than asyncpg's `Transaction`, whose bookkeeping for nested and
            # manual transactions nothing here uses: 2 % of a money command's instructions.
            await pooled.driver.execute("BEGIN")
            try:
                yield pooled.orm, pooled.driver
                await pooled.orm.flush()
            except BaseException:
                await pooled.driver.execute("ROLLBACK")
                raise
            await pooled.driver.execute("COMMIT")
        finally:
            await pooled.give_back()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[tuple[SessionOnDemand, asyncpg.Connection | None]]:
        """Reads outside any transaction (`workroom.reads`): each statement stands alone. On
        PostgreSQL, on a connection straight from the pool, with its driver for the prebuilt
        statements and a session opened only when asked for; on SQLite on an autocommit session,
        which takes no write lock."""
        if self.is_sqlite:
            async with self.autocommit.connect() as connection:
                async with AsyncSession(bind=connection, expire_on_commit=False) as session:
                    yield SessionOnDemand(self.engine.dialect, session=session), None
            return
        pooled = await _Pooled.check_out(self)
        try:
            yield pooled.orm, pooled.driver
        finally:
            await pooled.give_back()

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


class _Pooled:
    """A PostgreSQL connection straight from the pool: its driver, and an ORM session on it opened
    only when asked for (`orm`), in autocommit mode, so that the session sends no transaction
    statements of its own."""

    def __init__(self, database: Database, pooled: PoolProxiedConnection) -> None:
        self._database, self._pooled = database, pooled
        driver = pooled.driver_connection
        assert driver is not None
        self.driver: asyncpg.Connection = driver
        self._connection: AsyncConnection | None = None
        self.orm = SessionOnDemand(database.engine.dialect, self._open_session)

    @classmethod
    async def check_out(cls, database: Database) -> _Pooled:
        return cls(database, await database.autocommit.raw_connection())

    def _open_session(self) -> AsyncSession:
        # The autocommit engine's connection characteristics are set on the pooled connection now,
        # and reset when it returns to the pool.
        engine = self._database.autocommit
        self._connection = AsyncConnection(engine, Connection(engine.sync_engine, connection=self._pooled))
        return AsyncSession(bind=self._connection, expire_on_commit=False)

    async def give_back(self) -> None:
        """End the session, if one opened, and return the connection to the pool: through the
        session's connection if there is one, which also resets its characteristics."""
        try:
            await self.orm.close()
        finally:
            await (self._connection.close() if self._connection is not None else greenlet_spawn(self._pooled.close))


def on_postgresql(session: AsyncSession) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"


def skip_locked(session: AsyncSession, query: Select[Any]) -> Select[Any]:
    """A work queue's claim (timers, outbox, received mail): on PostgreSQL the rows it returns are
    locked and rows another worker holds are skipped, so workers share a queue without waiting on
    each other; SQLite has one writer, so there is nothing to skip."""
    return query.with_for_update(skip_locked=True) if on_postgresql(session) else query


def _serialize_sqlite_writers(engine: AsyncEngine) -> None:
    """SQLite has one writer. `BEGIN IMMEDIATE` takes the write lock at the start of every
    transaction, so two transactions never both read a room's head and then fail to upgrade
    (which SQLite reports as 'database is locked' instead of waiting)."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def _drop_closed_connections(engine: AsyncEngine) -> None:
    """A pooled connection the server closed (a restart, a cut network) is replaced at checkout.
    asyncpg notices the closed socket by itself, so this costs no round trip, unlike SQLAlchemy's
    pre-ping (BEGIN, `;`, ROLLBACK before every transaction). A connection that dies later fails
    its statement, and that disconnect error invalidates the whole pool, so the next transaction
    connects afresh."""

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if dbapi_connection.driver_connection.is_closed():
            raise exc.DisconnectionError("the database closed this pooled connection")
