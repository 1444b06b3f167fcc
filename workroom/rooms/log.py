"""The room log: append-only, gapless per-room `seq`, each event hash-chained to the one before.

`RoomLog.append` is the only writer of the `events` table. It runs inside the caller's
transaction, under the room's row lock, and writes the registered `EventWrite`s (the email
outbox's rows, dormancy's activity mark) with the event, in the same round trip on PostgreSQL, then
runs their follow-ups: all in that same transaction, so they commit or vanish with the event."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Sequence, cast

from sqlalchemy import CursorResult, Integer, bindparam, insert, select, update
from sqlalchemy.orm.attributes import set_committed_value

from workroom.clock import isoformat
from workroom.db.driver import DriverStatement
from workroom.errors import not_found
from workroom.rooms.models import Event, Room

if TYPE_CHECKING:
    from workroom.services import Tx

SOURCES = ("web", "email", "api", "system")
HASH_ALGORITHM = "sha256"


@dataclass(frozen=True)
class Actor:
    id: str
    name: str
    role: str

    def as_dict(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "role": self.role}


SYSTEM = Actor(id="system", name="Workroom", role="system")


@dataclass
class StoredEvent:
    room_id: str
    seq: int
    type: str
    actor_id: str
    envelope: str  # the canonical JSON text, as stored and published
    replayed: bool = False  # an idempotent repeat: already stored and published before

    @property
    def data(self) -> dict[str, Any]:
        return cast(dict[str, Any], self.as_dict()["data"])

    def as_dict(self) -> dict[str, Any]:
        return cast(dict[str, Any], json.loads(self.envelope))


# The hot path's statements, built once: Core on the tables, so no ORM unit of work runs per event.
_events, _rooms = Event.__table__, Room.__table__
# The event row's parameters are named `event_<column>`: an UPDATE compiled with parameters named
# like one of its table's columns would set that column too.
_insert_event = insert(_events).values({column.name: bindparam(f"event_{column.name}", type_=column.type)
                                        for column in _events.c})
_inserted = _insert_event.returning(_events.c.room_id, _events.c.seq, _events.c.hash, _events.c.at).cte("inserted")
_MOVE_HEAD = update(_rooms).where(_rooms.c.id == bindparam("event_room_id")).values(
    head_seq=bindparam("event_seq"), head_hash=bindparam("event_hash"),
    last_event_at=bindparam("event_at", type_=_rooms.c.last_event_at.type))


@dataclass(frozen=True)
class EventWrite:
    """Rows that follow from a new event's row alone (the email outbox's, say), written with the
    event in its transaction. `statement` is a Core INSERT, UPDATE or DELETE whose parameters are
    the event row's columns as `event_<column>` (`event_room_id`, `event_seq`, `event_type`,
    `event_at`, `event_actor_id`, ...) and the ones `extra` computes from the row (keyed by column),
    named apart from those and from other writes' and from every column name. It must not read the
    events table: on PostgreSQL it runs in the event's own statement, which sees the database as it
    was just before. With RETURNING, `then` gets the (first) row it returned (None when it wrote
    none), in the event's transaction, right after the event is stored. `split` is the same write
    as several statements, for SQLite, which has no data-modifying WITH (`then` gets the last one's
    row); they run after the event's row."""

    statement: Any
    extra: Callable[[dict[str, Any]], dict[str, Any]] = lambda row: {}
    then: Callable[["Tx", Room, StoredEvent, dict[str, Any] | None], Awaitable[None]] | None = None
    split: tuple[Any, ...] = ()


@lru_cache(maxsize=256)
def store_event_statement(writes: tuple[Any, ...]) -> DriverStatement:
    """PostgreSQL stores one event in one round trip: its row, the room's head moved to it, and the
    `EventWrite`s' statements as data-modifying WITHs (which run whether or not the outer statement
    reads them), all with the same parameters; the first row each write returns comes back as
    `write_<n>_<column>`. Built and compiled once per set of writes, and run on the driver (see
    `workroom.db.driver`): it is the server's most frequent statement."""
    ctes = [write.cte(f"write_{n}") for n, write in enumerate(writes)]
    statement = (update(_rooms).where(_rooms.c.id == _inserted.c.room_id)
                 .values(head_seq=_inserted.c.seq, head_hash=_inserted.c.hash, last_event_at=_inserted.c.at)
                 .add_cte(_inserted, *ctes))
    returned = [select(column).limit(1).scalar_subquery().label(f"write_{n}_{column.name}")
                for n, cte in enumerate(ctes) for column in cte.c]
    return DriverStatement(statement.returning(*returned) if returned else statement)


async def _store(tx: "Tx", writes: tuple["EventWrite", ...], params: dict[str, Any]) -> list[dict[str, Any] | None]:
    """Store the event and its writes; what each write returned (None: nothing)."""
    if tx.driver is not None:
        store = store_event_statement(tuple(write.statement for write in writes))
        row = await store.fetchrow(tx, params) or ()
        returned, start = [], 0  # the row holds each write's returned columns in turn
        for write in writes:
            names = write.statement.exported_columns.keys()
            values = row[start:start + len(names)]
            start += len(names)
            returned.append(dict(zip(names, values)) if any(value is not None for value in values) else None)
        return returned
    await tx.session.execute(_insert_event, params)  # SQLite, no driver: a statement each
    await tx.session.execute(_MOVE_HEAD, params)
    returned = []
    for write in writes:
        for statement in write.split or (write.statement,):
            result = cast(CursorResult[Any], await tx.session.execute(statement, params))
        first = result.first() if result.returns_rows else None
        returned.append(dict(first._mapping) if first is not None else None)
    return returned


LOCK_ROOM = (select(Room).where(Room.id == bindparam("room_id")).with_for_update()
             .execution_options(populate_existing=True))
# Events are read as the columns a StoredEvent holds, in its order.
_STORED = (_events.c.room_id, _events.c.seq, _events.c.type, _events.c.actor_id, _events.c.envelope)
# A page of the log (resumes, gap fills, GET …/events).
READ_PAGE = (select(*_STORED).where(_events.c.room_id == bindparam("room_id"), _events.c.seq > bindparam("since"))
             .order_by(_events.c.seq).limit(bindparam("limit", type_=Integer())))
# Every command given a `client_id` runs it first thing under the lock: on the driver.
FIND_REPEAT = DriverStatement(select(*_STORED).where(
    _events.c.room_id == bindparam("room_id"), _events.c.actor_id == bindparam("actor_id"),
    _events.c.client_id == bindparam("client_id")))


# One encoder for every envelope: `json.dumps` with options builds a new one per call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: Any) -> str:
    return _CANONICAL.encode(value)


def chain_hash(prev_hash: str, envelope: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{envelope}".encode()).hexdigest()


async def lock_room(tx: "Tx", room_id: str) -> Room:
    """Take the room's row lock before an append, so concurrent appends queue for the next `seq`
    (SQLite: `BEGIN IMMEDIATE` already holds the database's one write lock)."""
    room = await tx.session.scalar(LOCK_ROOM, {"room_id": room_id})
    if room is None:
        raise not_found()
    return room


async def lock_room_of(tx: "Tx", row: Any) -> Room:
    """Lock the room a row loaded before the lock belongs to (`row.room_id`), and read the row
    again: a command that waited for the lock must see what the one before it committed."""
    room = await lock_room(tx, row.room_id)
    await tx.session.refresh(row)
    return room


class RoomLog:
    def __init__(self) -> None:
        self.writes: list[EventWrite] = []

    def add_write(self, write: EventWrite) -> None:
        """Write `write`'s rows with every event from now on (see `EventWrite`)."""
        self.writes.append(write)

    async def find_repeat(self, tx: "Tx", room_id: str, actor_id: str, client_id: str | None) -> StoredEvent | None:
        """The event an earlier request with this `client_id` stored, if any."""
        if not client_id:
            return None
        row = await FIND_REPEAT.fetchrow(tx, {"room_id": room_id, "actor_id": actor_id, "client_id": client_id})
        if row is None:
            return None
        stored_room, seq, type, stored_actor, envelope = row
        return StoredEvent(stored_room, seq, type, stored_actor, envelope, replayed=True)

    async def append(
        self,
        tx: "Tx",
        room: Room,
        type: str,
        actor: Actor,
        data: dict[str, Any],
        *,
        source: str,
        client_id: str | None = None,
        also: Sequence[EventWrite] = (),
    ) -> StoredEvent:
        """Store one event with the `writes` that follow from it, then their follow-ups. The caller holds
        the room lock (`lock_room`) and has checked `find_repeat`. `also`: writes that belong with
        this one event (a money movement's milestone and payment rows, see `workroom.rooms.event_rows`)."""
        if source not in SOURCES:
            raise ValueError(f"unknown source {source!r}")
        seq = room.head_seq + 1
        envelope = canonical_json({
            "room": room.id, "seq": seq, "type": type, "at": isoformat(tx.now),
            "actor": actor.as_dict(), "source": source, "data": data,
        })
        digest = chain_hash(room.head_hash, envelope)
        # What the caller changed through the ORM is written first: the writes read the database.
        # (A money command's rows ride in `also` and leave nothing to flush: no round trip then.)
        await tx.orm.flush()
        row = {"room_id": room.id, "seq": seq, "type": type, "at": tx.now, "actor_id": actor.id, "source": source,
               "client_id": client_id or None, "envelope": envelope, "prev_hash": room.head_hash, "hash": digest}
        params = {f"event_{column}": value for column, value in row.items()}
        writes = (*self.writes, *also)
        for write in writes:
            params.update(write.extra(row))
        returned = await _store(tx, writes, params)
        # The loaded room now matches its row, without the ORM writing it again.
        for name, value in (("head_seq", seq), ("head_hash", digest), ("last_event_at", tx.now)):
            set_committed_value(room, name, value)
        stored = StoredEvent(room.id, seq, type, actor.id, envelope)
        tx.events.append(stored)
        for write, written in zip(writes, returned):
            if write.then is not None:
                await write.then(tx, room, stored, written)
        return stored

    async def read(self, session: Any, room_id: str, since: int, limit: int) -> list[StoredEvent]:
        rows = await session.execute(READ_PAGE, {"room_id": room_id, "since": since, "limit": limit})
        return [StoredEvent(*row) for row in rows]
