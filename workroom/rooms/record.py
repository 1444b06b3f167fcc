"""The room's record as a document: export it, and later prove an export complete, in order and
untampered by walking the hash chain from the genesis hash to the exported head."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from workroom.rooms.log import HASH_ALGORITHM, canonical_json, chain_hash
from workroom.rooms.models import GENESIS_HASH, Event, Room


async def export_room(session: AsyncSession, room: Room, room_view: dict[str, Any]) -> dict[str, Any]:
    rows = (await session.scalars(select(Event).where(Event.room_id == room.id).order_by(Event.seq))).all()
    events = []
    for row in rows:
        event = json.loads(row.envelope)
        event["hash"] = row.hash
        events.append(event)
    return {
        "room": room_view,
        "events": events,
        "chain": {"algorithm": HASH_ALGORITHM, "genesis": GENESIS_HASH, "head": room.head_hash,
                  "head_seq": room.head_seq},
    }


def verify_export(document: Any) -> list[str]:
    """Every problem found; an empty list means the export is intact."""
    if not isinstance(document, dict) or not isinstance(document.get("events"), list):
        return ["not an export: no events list"]
    chain = document.get("chain") or {}
    if chain.get("algorithm") != HASH_ALGORITHM:
        return [f"unknown chain algorithm {chain.get('algorithm')!r}"]
    room_id = (document.get("room") or {}).get("id")
    problems: list[str] = []
    prev = GENESIS_HASH
    for index, event in enumerate(document["events"], start=1):
        if not isinstance(event, dict):
            problems.append(f"entry {index} is not an event")
            break
        body = {k: v for k, v in event.items() if k != "hash"}
        if body.get("seq") != index:
            problems.append(f"entry {index} has seq {body.get('seq')}: an event is missing, inserted or out of order")
        if room_id is not None and body.get("room") != room_id:
            problems.append(f"event seq {body.get('seq')} belongs to room {body.get('room')}")
        digest, stored = chain_hash(prev, canonical_json(body)), event.get("hash")
        if stored != digest:
            problems.append(f"event seq {body.get('seq')} does not match its hash: it was edited or the chain broken")
            if isinstance(stored, str):
                digest = stored  # go on along the stored chain: one edit is reported once
        prev = digest
    if chain.get("head_seq") is not None and chain.get("head_seq") != len(document["events"]):
        problems.append(f"the chain's head is seq {chain.get('head_seq')} but the export has "
                        f"{len(document['events'])} events")
    if chain.get("head") != prev:
        problems.append("the last event does not reach the chain head: events were removed or the head altered")
    return problems
