"""Cancelling an active job (rules/contract.md): a party files a request stating the refund; the
other party confirms (the job is cancelled, the refund made) or rejects (the job goes into dispute).

The stated refund is the total returned to the client out of escrow (by default, all of it). It is
taken from the milestones last to first, since later work is the least likely to be done; whatever
escrow is left is released to the freelancer for the work done, less the platform fee. Each money
movement is its own room event and ledger entry; `job.cancelled` follows them. On rejection every
milestone holding money is disputed (frozen, timers stopped) and the room's status is `disputed`
until support settles it."""

from __future__ import annotations

from sqlalchemy import select

from workroom.accounts import Account
from workroom.billing import milestones, statement
from workroom.billing.models import Cancellation, Milestone
from workroom.errors import ApiError, conflict, forbidden
from workroom.ids import new_id
from workroom.rooms.access import Seat, seat
from workroom.rooms.log import StoredEvent
from workroom.rooms.models import Room
from workroom.services import Services, Tx


async def _holding(tx: Tx, room_id: str) -> list[Milestone]:
    rows = await tx.session.scalars(select(Milestone).where(
        Milestone.room_id == room_id, Milestone.state.in_(milestones.HOLDING_STATES))
        .order_by(Milestone.position).execution_options(populate_existing=True))
    return [m for m in rows.all() if m.in_escrow > 0]


async def _open_request(tx: Tx, room_id: str) -> Cancellation | None:
    return await tx.session.scalar(select(Cancellation).where(
        Cancellation.room_id == room_id, Cancellation.status == "requested")
        .execution_options(populate_existing=True))


async def request(services: Services, account: Account, room_id: str, reason: str, refund: int | None, *,
                  client_id: str | None = None, source: str = "api") -> StoredEvent:
    async with services.transaction() as tx:
        the_seat = await seat(tx, room_id, account, lock=True)
        if (repeat := await services.log.find_repeat(tx, room_id, account.id, client_id)) is not None:
            return repeat
        the_seat.require(("client", "freelancer"), "request cancellation of the job")
        room = the_seat.room
        if room.status != "working":
            raise conflict("job_not_active", f"Only a working job can be cancelled this way; this job is {room.status}.")
        if await _open_request(tx, room_id) is not None:
            raise conflict("cancellation_pending", "A cancellation request is already awaiting an answer.")
        in_escrow = sum(m.in_escrow for m in await _holding(tx, room_id))
        amount = in_escrow if refund is None else refund
        if amount > in_escrow:
            raise ApiError(409, "exceeds_escrow", f"The refund ({amount}) is more than the escrow ({in_escrow}).")
        cancellation = Cancellation(id=new_id("c"), room_id=room_id, requester_id=account.id,
                                    requester_role=the_seat.role, reason=reason, refund=amount, created_at=tx.now)
        tx.session.add(cancellation)
        return await services.log.append(tx, room, "job.cancellation_requested", the_seat.actor, {
            "cancellation": cancellation.id, "reason": reason, "refund": amount, "in_escrow": in_escrow,
            "release_to_freelancer": in_escrow - amount, "currency": room.currency,
            "notify": ["freelancer" if the_seat.role == "client" else "client"]}, source=source, client_id=client_id)


async def _answerable(tx: Tx, the_seat: Seat) -> Cancellation:
    the_seat.require(("client", "freelancer"), "answer a cancellation request")
    cancellation = await _open_request(tx, the_seat.room.id)
    if cancellation is None:
        raise conflict("no_cancellation_request", "There is no cancellation request awaiting an answer.")
    if cancellation.requester_role == the_seat.role:
        raise forbidden("own_request", "The other party answers a cancellation request, not the one who filed it.")
    return cancellation


async def confirm(services: Services, account: Account, room_id: str, *, source: str = "api") -> StoredEvent:
    async with services.transaction() as tx:
        the_seat = await seat(tx, room_id, account, lock=True)
        cancellation = await _answerable(tx, the_seat)
        room = the_seat.room
        holding = await _holding(tx, room_id)
        left_to_refund = cancellation.refund
        refunded = released = 0
        for milestone in reversed(holding):
            part = min(left_to_refund, milestone.in_escrow)
            if part > 0:
                await milestones.refund_money(tx, services, room, milestone, part, the_seat.actor, source=source,
                                              reason="cancellation", why=cancellation.reason)
                left_to_refund -= part
                refunded += part
        for milestone in holding:
            if milestone.in_escrow > 0:
                released += milestone.in_escrow
                await milestones.release_money(tx, services, room, milestone, milestone.in_escrow, the_seat.actor,
                                               source=source, reason="cancellation")
        cancellation.status, cancellation.decided_at = "confirmed", tx.now
        room.status = "cancelled"
        cancelled = await services.log.append(tx, room, "job.cancelled", the_seat.actor, {
            "cancellation": cancellation.id, "reason": cancellation.reason, "refunded": refunded,
            "released": released, "currency": room.currency, "status": "cancelled"}, source=source)
        await statement.issue(tx, services, room)
        return cancelled


async def reject(services: Services, account: Account, room_id: str, *, source: str = "api") -> StoredEvent:
    async with services.transaction() as tx:
        the_seat = await seat(tx, room_id, account, lock=True)
        cancellation = await _answerable(tx, the_seat)
        room = the_seat.room
        cancellation.status, cancellation.decided_at = "rejected", tx.now
        room.status = "disputed"
        event = await services.log.append(tx, room, "job.cancellation_rejected", the_seat.actor, {
            "cancellation": cancellation.id, "status": "disputed", "notify": ["client", "freelancer"]},
            source=source)
        for milestone in await _holding(tx, room_id):
            if milestone.state != "disputed":
                await milestones.dispute_in(tx, services, room, milestone, the_seat.actor,
                                            "The cancellation request was rejected.", source=source)
        return event
