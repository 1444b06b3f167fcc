"""One loaded or new ORM object's unsaved state as an `EventWrite`, for the hot path, where it rides
in the event's own round trip (`RoomLog.append(..., also=...)`) instead of costing one of its own at
the unit of work's flush."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.orm import Mapper
from sqlalchemy.orm.attributes import instance_state, set_committed_value

from workroom.rooms.log import EventWrite


def row_write(obj: Any, **changes: Any) -> EventWrite:
    """`obj`'s row with `changes` applied, as a write for the event: an INSERT of it when it is new
    (in no session), else an UPDATE by its primary key of the changed columns — `changes` and what
    was assigned to it since it was loaded. Those then count as saved (so the session's flush has
    nothing to write for it): the caller writes it in the same transaction. Its parameters are named
    `<table>_<column>`, so one event may write one row of each table."""
    state = instance_state(obj)
    mapper = state.mapper
    table, columns = _table(mapper), _columns(mapper)
    if state.transient:
        for key, value in changes.items():
            setattr(obj, key, value)
        values = {key: value for key, value in state.dict.items() if key in columns}
        statement = _statement(table, tuple(values), new=True)
    else:
        # Assigned since loaded: the attributes whose loaded value the state keeps aside.
        assigned = [key for key in columns.intersection(state.committed_state) if state.attrs[key].history.added]
        values = {key: state.dict[key] for key in assigned} | changes
        if not values:
            raise ValueError(f"nothing to write for {obj!r}")
        values = {key: values[key] for key in sorted(values)}
        for key, value in values.items():
            set_committed_value(obj, key, value)
        statement = _statement(table, tuple(values), new=False)
        values.update({f"key_{column.name}": value
                       for column, value in zip(mapper.primary_key, mapper.primary_key_from_instance(obj))})
    params = {f"{table.name}_{column}": value for column, value in values.items()}
    return EventWrite(statement, lambda event: params)


def _table(mapper: Mapper[Any]) -> Table:
    return cast(Table, mapper.local_table)  # every model here maps one table


@lru_cache(maxsize=None)
def _columns(mapper: Mapper[Any]) -> frozenset[str]:
    return frozenset(prop.key for prop in mapper.column_attrs)  # attribute key = column name in every model here


@lru_cache(maxsize=256)
def _statement(table: Table, columns: tuple[str, ...], *, new: bool) -> Any:
    """The INSERT, or the UPDATE by primary key, of these columns; built once per shape, so its
    cache key is too."""

    def param(column: str) -> Any:
        return bindparam(f"{table.name}_{column}", type_=table.c[column.removeprefix("key_")].type)

    values = {column: param(column) for column in columns}
    if new:
        return insert(table).values(values)
    return update(table).where(*(column == param(f"key_{column.name}") for column in table.primary_key)).values(values)
