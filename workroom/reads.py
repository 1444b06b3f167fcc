"""Reads of one statement each (who a token or cookie belongs to, a subscribe's membership check,
a room's head, a page of the log, a reply token at RCPT) run on an autocommit connection: on
PostgreSQL without the `BEGIN` and `COMMIT`/`ROLLBACK` round trips a transaction adds around a
single `SELECT` (a reconnecting crowd of sockets makes thousands of them); on SQLite without
`BEGIN IMMEDIATE`, so a read never queues behind a writer (WAL readers see the last commit).
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, AsyncIterator

from workroom.services import Tx

if TYPE_CHECKING:
    from workroom.services import Services


@asynccontextmanager
async def reading(services: "Services") -> AsyncIterator[Tx]:
    """A Tx for reads only. It is no transaction: each statement stands alone."""
    async with services.db.reading() as (orm, driver):
        yield Tx(orm=orm, now=services.clock.now(), driver=driver)
