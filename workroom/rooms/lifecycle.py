"""The room's status: proposal → working (award) → complete (either party) → working again
(the client reopens within the policy's window)."""

from __future__ import annotations

from workroom.accounts import Account
from workroom.errors import conflict
from workroom.rooms.access import seat
from workroom.rooms.log import Actor, StoredEvent, lock_room
from workroom.services import Services


async def award(services: Services, account: Account, room_id: str, *, source: str = "api") -> StoredEvent:
    """The marketplace (service token) or the room's client awards the job: the contract starts."""
    async with services.transaction() as tx:
        if account.kind == "service":
            room = await lock_room(tx, room_id)
            actor = Actor(account.id, account.name, "system")
        else:
            the_seat = await seat(tx, room_id, account, lock=True)
            the_seat.require(("client",), "award the job")
            room, actor = the_seat.room, the_seat.actor
        if room.status != "proposal":
            raise conflict("invalid_status", f"Only a proposal can be awarded; this job is {room.status}.")
        room.status, room.started_at = "working", tx.now
        return await services.log.append(tx, room, "room.awarded", actor, {"status": "working"}, source=source)


async def complete(services: Services, account: Account, room_id: str, *, source: str = "api") -> StoredEvent:
    async with services.transaction() as tx:
        the_seat = await seat(tx, room_id, account, lock=True)
        the_seat.require(("client", "freelancer"), "mark the job complete")
        room = the_seat.room
        if room.status != "working":
            raise conflict("invalid_status", f"Only a working job can be completed; this job is {room.status}.")
        room.status, room.completed_at = "complete", tx.now
        return await services.log.append(tx, room, "room.completed", the_seat.actor, {"status": "complete"},
                                         source=source)


async def reopen(services: Services, account: Account, room_id: str, *, source: str = "api") -> StoredEvent:
    async with services.transaction() as tx:
        the_seat = await seat(tx, room_id, account, lock=True)
        the_seat.require(("client",), "reopen the job")
        room = the_seat.room
        if room.status != "complete" or room.completed_at is None:
            raise conflict("invalid_status", f"Only a completed job can be reopened; this job is {room.status}.")
        window = services.policy.reopen_within
        if tx.now > room.completed_at + window:
            raise conflict("reopen_window_closed",
                            f"A job can be reopened within {window.days} days of completion.")
        room.status, room.completed_at = "working", None
        return await services.log.append(tx, room, "room.reopened", the_seat.actor, {"status": "working"},
                                         source=source)
