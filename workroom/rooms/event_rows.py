"""One loaded or new ORM object's unsaved state as an `EventWrite`, for the hot path, where it rides
in the event's own round trip (`RoomLog.append(..., also=...)`) instead of costing one of its own at
the unit of work's flush."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, inspect, insert, update
from sqlalchemy.orm.attributes import set_committed_value

from workroom.rooms.log import EventWrite


def row_write(obj: Any) -> EventWrite | None:
    """An INSERT of `obj` when it is new (in no session), else an UPDATE by its primary key of the
    columns changed since it was loaded (None when nothing changed). The changed attributes then
    count as saved, so the session's flush does not write them again: the caller writes it in the
    same transaction. Its parameters are named `<table>_<column>`, so one event may write one row
    of each table."""
    state = inspect(obj)
    mapper, table = state.mapper, state.mapper.local_table
    keys = [prop.key for prop in mapper.column_attrs]  # attribute key = column name in every model here

    def param(column: str) -> Any:
        return bindparam(f"{table.name}_{column}", type_=table.c[column.removeprefix("key_")].type)

    if state.transient:
        values = {key: state.dict[key] for key in keys if key in state.dict}
        statement = insert(table).values({column: param(column) for column in values})
    else:
        values = {key: state.attrs[key].history.added[0] for key in keys if state.attrs[key].history.added}
        if not values:
            return None
        for key, value in values.items():
            set_committed_value(obj, key, value)
        identity = dict(zip((column.name for column in mapper.primary_key), mapper.primary_key_from_instance(obj)))
        statement = (update(table).where(*(table.c[column] == param(f"key_{column}") for column in identity))
                     .values({column: param(column) for column in values}))
        values.update({f"key_{column}": value for column, value in identity.items()})
    params = {f"{table.name}_{column}": value for column, value in values.items()}
    return EventWrite(statement, lambda event: params)


def row_writes(*objs: Any) -> list[EventWrite]:
    """`row_write` of each object that has something to write."""
    return [write for write in map(row_write, objs) if write is not None]
