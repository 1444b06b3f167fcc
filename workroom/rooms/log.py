"""The room log: append-only, gapless per-room `seq`, each event hash-chained to the one before.

`RoomLog.append` is the only writer of the `events` table. It runs inside the caller's
transaction, under the room's row lock, and calls the registered hooks (outbox rows, activity
marks) in that same transaction so they commit or vanish together with the event."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm.attributes import set_committed_value

from workroom.clock import isoformat
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
        return json.loads(self.envelope)["data"]

    def as_dict(self) -> dict[str, Any]:
        return json.loads(self.envelope)

    @classmethod
    def from_row(cls, row: Event, *, replayed: bool = False) -> "StoredEvent":
        return cls(row.room_id, row.seq, row.type, row.actor_id, row.envelope, replayed)


AppendHook = Callable[["Tx", Room, StoredEvent], Awaitable[None]]

# The hot path's statements, built once: Core on the tables, so no ORM unit of work runs per event.
_events, _rooms = Event.__table__, Room.__table__
# Storing an event writes its row and moves the room's head (both take the event's row as
# parameters). PostgreSQL does both in one round trip, the update reading the inserted row from a
# data-modifying WITH; SQLite has no such WITH and runs the two statements.
_inserted = (insert(_events).values({column.name: bindparam(column.name, type_=column.type) for column in _events.c})
             .returning(_events.c.room_id, _events.c.seq, _events.c.hash, _events.c.at).cte("inserted"))
STORE_EVENT = {
    "postgresql": (update(_rooms).where(_rooms.c.id == _inserted.c.room_id).add_cte(_inserted).values(
        head_seq=_inserted.c.seq, head_hash=_inserted.c.hash, last_event_at=_inserted.c.at),),
    "sqlite": (insert(_events), update(_rooms).where(_rooms.c.id == bindparam("room_id")).values(
        head_seq=bindparam("seq"), head_hash=bindparam("hash"),
        last_event_at=bindparam("at", type_=_rooms.c.last_event_at.type))),
}
FIND_REPEAT = select(_events.c.room_id, _events.c.seq, _events.c.type, _events.c.actor_id, _events.c.envelope).where(
    _events.c.room_id == bindparam("room_id"), _events.c.actor_id == bindparam("actor_id"),
    _events.c.client_id == bindparam("client_id"))


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev_hash: str, envelope: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{envelope}".encode()).hexdigest()


async def lock_room(tx: "Tx", room_id: str) -> Room:
    """Take the room's row lock before an append, so concurrent appends queue for the next `seq`
    (SQLite: `BEGIN IMMEDIATE` already holds the database's one write lock)."""
    room = await tx.session.scalar(
        select(Room).where(Room.id == room_id).with_for_update().execution_options(populate_existing=True)
    )
    if room is None:
        raise not_found()
    return room


class RoomLog:
    def __init__(self) -> None:
        self.hooks: list[AppendHook] = []

    async def find_repeat(self, tx: "Tx", room_id: str, actor_id: str, client_id: str | None) -> StoredEvent | None:
        """The event an earlier request with this `client_id` stored, if any."""
        if not client_id:
            return None
        row = (await tx.session.execute(
            FIND_REPEAT, {"room_id": room_id, "actor_id": actor_id, "client_id": client_id})).first()
        return StoredEvent(*row, replayed=True) if row else None

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
    ) -> StoredEvent:
        """Store one event. The caller holds the room lock (`lock_room`) and has checked `find_repeat`."""
        if source not in SOURCES:
            raise ValueError(f"unknown source {source!r}")
        seq = room.head_seq + 1
        envelope = canonical_json({
            "room": room.id, "seq": seq, "type": type, "at": isoformat(tx.now),
            "actor": actor.as_dict(), "source": source, "data": data,
        })
        digest = chain_hash(room.head_hash, envelope)
        # What the caller changed through the ORM is written first: hooks read the database.
        await tx.session.flush()
        row = {"room_id": room.id, "seq": seq, "type": type, "at": tx.now, "actor_id": actor.id, "source": source,
               "client_id": client_id or None, "envelope": envelope, "prev_hash": room.head_hash, "hash": digest}
        for statement in STORE_EVENT[tx.session.bind.dialect.name]:  # type: ignore[union-attr]
            await tx.session.execute(statement, row)
        # The loaded room now matches its row, without the ORM writing it again.
        for name, value in (("head_seq", seq), ("head_hash", digest), ("last_event_at", tx.now)):
            set_committed_value(room, name, value)
        stored = StoredEvent(room.id, seq, type, actor.id, envelope)
        tx.events.append(stored)
        for hook in self.hooks:
            await hook(tx, room, stored)
        return stored

    async def read(self, session: Any, room_id: str, since: int, limit: int) -> list[StoredEvent]:
        rows = await session.scalars(
            select(Event).where(Event.room_id == room_id, Event.seq > since).order_by(Event.seq).limit(limit)
        )
        return [StoredEvent.from_row(row) for row in rows]
