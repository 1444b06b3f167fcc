"""The room's status: proposal → working (award) → complete (either party) → working again
(the client reopens within the policy's window); a job not yet awarded can be cancelled, which
cancels every proposal room of the job. (Cancelling an awarded job is billing's: it may refund.)"""

from __future__ import annotations

from sqlalchemy import select

from workroom.accounts import Account
from workroom.billing import statement
from workroom.clock import isoformat
from workroom.errors import conflict, not_found
from workroom.rooms.access import membership, seat
from workroom.rooms.log import Actor, StoredEvent, lock_room
from workroom.rooms.models import Room
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
        policy = services.policy
        completed = await services.log.append(tx, room, "room.completed", the_seat.actor, {
            "status": "complete", "reopen_until": isoformat(tx.now + policy.reopen_within),
            "feedback_until": isoformat(tx.now + policy.feedback_window)}, source=source)
        await statement.issue(tx, services, room)
        return completed


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


async def cancel_job(services: Services, account: Account, job_ref: str, reason: str, *,
                     source: str = "api") -> list[StoredEvent]:
    """The client (or the marketplace) cancels a job nobody has been awarded: each of its proposal
    rooms becomes cancelled and gets the reason, so every candidate sees it. All rooms or none."""
    async with services.transaction() as tx:
        room_ids = list(await tx.session.scalars(
            select(Room.id).where(Room.job_ref == job_ref).order_by(Room.id)))  # one lock order: no deadlocks
        rooms: list[tuple[Room, Actor]] = []
        for room_id in room_ids:
            if account.kind == "service":
                rooms.append((await lock_room(tx, room_id), Actor(account.id, account.name, "system")))
                continue
            member = await membership(tx, room_id, account.id)
            if member is None or member.removed_at is not None or member.role != "client":
                continue  # a job's rooms the caller is not the client of are not theirs to cancel
            the_seat = await seat(tx, room_id, account, lock=True)
            rooms.append((the_seat.room, the_seat.actor))
        if not rooms:
            raise not_found("job")
        awarded = [room for room, _ in rooms if room.status not in ("proposal", "cancelled")]
        if awarded:
            raise conflict("job_awarded", f"This job was awarded (room {awarded[0].id} is {awarded[0].status}); "
                           "cancel the contract in its room instead.")
        pending = [(room, actor) for room, actor in rooms if room.status == "proposal"]
        if not pending:
            raise conflict("already_cancelled", "This job is already cancelled.")
        events = []
        for room, actor in pending:
            room.status = "cancelled"
            events.append(await services.log.append(tx, room, "room.cancelled", actor, {
                "status": "cancelled", "job_ref": job_ref, "reason": reason, "awarded": False}, source=source))
        return events
