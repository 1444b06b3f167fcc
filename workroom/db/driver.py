"""A prebuilt Core statement run on the transaction's own asyncpg connection.

Storing a room event is the one write every command makes (`workroom.rooms.log`), in one
statement on PostgreSQL. Through the session, SQLAlchemy redoes per execution what does not change
between executions: it constructs and processes the parameters by name, builds the result's
metadata and takes the connection's mutex, which is a seventh of a money command's client CPU
(bench/RESULTS.md). A `DriverStatement` does that once, at compile time, and each execution is the
driver's prepared statement with the values in order. It runs inside the session's transaction,
on its connection, so it commits or rolls back with everything else the command wrote.

Parameters and results go through their types' processing as they would through SQLAlchemy
(`UTCDateTime`'s, say). It runs only inside a transaction that has already run a statement through
the session (the room lock, for an event)."""

from __future__ import annotations

from typing import Any, Callable

import asyncpg
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession


class DriverStatement:
    def __init__(self, statement: Any, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql: str = compiled.string
        defaults = compiled.params
        self._binds: list[tuple[str, Any, Callable[[Any], Any] | None]] = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            self._binds.append((name, defaults.get(name), bind.type.dialect_impl(dialect).bind_processor(dialect)))
        self._results: list[tuple[str, Callable[[Any], Any] | None]] = [
            (column.name, column.type.dialect_impl(dialect).result_processor(dialect, None))
            for column in statement.exported_columns]

    def arguments(self, params: dict[str, Any]) -> list[Any]:
        """The values in the statement's order; a parameter not given takes its statement's value."""
        values = []
        for name, default, process in self._binds:
            value = params.get(name, default)
            values.append(process(value) if process is not None and value is not None else value)
        return values

    async def fetchrow(self, session: AsyncSession, params: dict[str, Any]) -> dict[str, Any]:
        """The first row the statement returned ({} when none). Database errors are raised as
        SQLAlchemy raises them (`IntegrityError` for a constraint), so callers handle one kind."""
        driver = (await (await session.connection()).get_raw_connection()).driver_connection
        assert driver is not None
        if not driver.is_in_transaction():
            raise RuntimeError("a DriverStatement runs inside the session's transaction, after its first statement")
        arguments = self.arguments(params)
        try:
            row = await driver.fetchrow(self.sql, *arguments)
        except asyncpg.IntegrityConstraintViolationError as error:
            raise IntegrityError(self.sql, arguments, error) from error
        except (asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            raise DBAPIError(self.sql, arguments, error) from error
        if row is None:
            return {}
        return {name: process(row[name]) if process is not None else row[name] for name, process in self._results}
