"""Prebuilt Core statements run on the transaction's own asyncpg connection, and the rows they read
as the session's objects.

The statements every command runs (the locked read of the caller's seat, the room event's store)
are the server's most frequent. Through the session, SQLAlchemy redoes per execution what does not
change between executions: it constructs and processes the parameters by name, builds the result's
metadata, takes the connection's mutex and switches greenlets: a locked read in its own
transaction cost 647 µs of client CPU through the session and 196 µs on the driver
(bench/RESULTS.md, `bench.billing --layers`). A `DriverStatement` does that once, when it is first
compiled, and each execution on PostgreSQL is the driver's prepared statement with the values in
order, on the transaction's connection (`Tx.driver`), so it commits or rolls back with everything
else the command wrote. Parameters and results go through their types' processing as they would
through SQLAlchemy (`UTCDateTime`'s, say), and errors come out as SQLAlchemy's.

SQLite has no driver connection to go around (`Tx.driver` is None): the same statement runs through
the session there. In reads (`workroom.reads`), which are no transaction, it stands alone."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, Sequence

import asyncpg
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Mapper
from sqlalchemy.orm.attributes import instance_state, set_committed_value

from workroom.db.session_on_demand import SessionOnDemand

if TYPE_CHECKING:
    from workroom.services import Tx


class _Compiled:
    """The statement's SQL for one dialect, its parameters in order and its results' processing."""

    def __init__(self, statement: Any, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql: str = compiled.string
        defaults = compiled.params
        self.binds: list[tuple[str, Any, Callable[[Any], Any] | None]] = [
            (name, defaults.get(name), compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in compiled.positiontup or ()]
        # The columns whose values need processing (most need none), by position.
        processors = [column.type.dialect_impl(dialect).result_processor(dialect, None)
                      for column in statement.exported_columns]
        self.results: list[tuple[int, Callable[[Any], Any]]] = [
            (position, process) for position, process in enumerate(processors) if process is not None]

    def arguments(self, params: dict[str, Any]) -> list[Any]:
        """The values in the statement's order; a parameter not given takes its statement's value."""
        values = []
        for name, default, process in self.binds:
            value = params.get(name, default)
            values.append(process(value) if process is not None and value is not None else value)
        return values


class DriverStatement:
    """One prebuilt Core statement (a module constant), compiled for PostgreSQL on first use."""

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._compiled: _Compiled | None = None

    def compiled(self, dialect: Dialect) -> _Compiled:
        """The statement for PostgreSQL, the only dialect that compiles here: once, on first use."""
        if self._compiled is None:
            self._compiled = _Compiled(self.statement, dialect)
        return self._compiled

    async def fetchrow(self, tx: "Tx", params: dict[str, Any]) -> tuple[Any, ...] | None:
        """The first row the statement returned, in its columns' order, or None. Database
        errors are raised as SQLAlchemy raises them (`IntegrityError` for a constraint), so callers
        handle one kind."""
        if tx.driver is None:
            row = (await tx.session.execute(self.statement, params)).first()
            return tuple(row) if row is not None else None
        compiled = self._compiled or self.compiled(tx.orm.dialect)
        arguments = compiled.arguments(params)
        try:
            row = await tx.driver.fetchrow(compiled.sql, *arguments)
        except asyncpg.IntegrityConstraintViolationError as error:
            raise IntegrityError(compiled.sql, arguments, error) from error
        except (asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            raise DBAPIError(compiled.sql, arguments, error) from error
        if row is None:
            return None
        values = list(row)
        for position, process in compiled.results:
            if values[position] is not None:
                values[position] = process(values[position])
        return tuple(values)


def columns_of(*models: type) -> list[Any]:
    """Every column of each model's table, in order: the select list `loaded` reads back."""
    return [column for model in models for column in _mapper(model).local_table.c]


def loaded(orm: SessionOnDemand, row: Sequence[Any], *models: type) -> list[Any]:
    """The objects of a row that selected `columns_of(*models)`: each one the transaction's, as if
    its session had loaded it, so that what a command then assigns to it is flushed like any change
    (the session may open only then: `SessionOnDemand`). An object the transaction already has
    takes the row's values (a row read under a lock may be newer than the one it was loaded from),
    except where the command has changed it and not written it yet."""
    objects, start = [], 0
    for model in models:
        mapper = _mapper(model)
        keys, primary_key = _layout(mapper)
        values = row[start:start + len(keys)]
        start += len(keys)
        identity = mapper.identity_key_from_primary_key(tuple(values[i] for i in primary_key))
        obj = orm.held(identity)
        if obj is None:
            # As the ORM's loader makes a loaded object: its state filled with every column and keyed
            # by its identity. (`make_transient_to_detached` does the same for any transient object,
            # and its search for changes to commit and attributes to expire, of which a state filled
            # this way has none (see `_layout`), cost 7 % of a money command's instructions.)
            obj = mapper.class_manager.new_instance()
            state = instance_state(obj)
            state.dict.update(zip(keys, values))
            state.key = identity
            orm.hold(identity, obj)
        else:
            changed = instance_state(obj).committed_state
            for key, value in zip(keys, values):
                if key not in changed:
                    set_committed_value(obj, key, value)
        objects.append(obj)
    return objects


def _mapper(model: type) -> Mapper[Any]:
    return model.__mapper__  # type: ignore[attr-defined,no-any-return]  # every model is declarative


@lru_cache(maxsize=None)
def _layout(mapper: Mapper[Any]) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The attribute of each column of the model's table in the table's order, and the positions of
    its primary key's columns."""
    names = [column.name for column in mapper.local_table.c]
    # `loaded` fills every attribute the model has: none is left unloaded (a relationship, say).
    assert set(mapper.attrs.keys()) == {mapper.get_property_by_column(column).key for column in mapper.local_table.c}, \
        f"{mapper.class_.__name__} has attributes besides its table's columns"
    return (tuple(mapper.get_property_by_column(column).key for column in mapper.local_table.c),
            tuple(names.index(column.name) for column in mapper.primary_key))
