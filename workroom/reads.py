"""Reads of one statement each (who a token or cookie belongs to, a subscribe's membership check,
a room's head, a page of the log): on PostgreSQL they run on an autocommit connection, without
the `BEGIN` and `COMMIT`/`ROLLBACK` round trips a transaction adds around a single `SELECT` (a
reconnecting crowd of sockets makes thousands of them). SQLite, in process, keeps ordinary
sessions.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession

from workroom.services import Tx

if TYPE_CHECKING:
    from workroom.services import Services


@asynccontextmanager
async def reading(services: "Services") -> AsyncIterator[Tx]:
    """A Tx for reads only. It is no transaction: on PostgreSQL each statement stands alone."""
    db = services.db
    if db.is_sqlite:
        async with db.sessions() as session:
            yield Tx(session=session, now=services.clock.now())
        return
    async with db.engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        async with AsyncSession(bind=conn, expire_on_commit=False) as session:
            yield Tx(session=session, now=services.clock.now())
