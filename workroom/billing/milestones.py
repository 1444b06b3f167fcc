"""Escrow milestones (rules/escrow.md): request funding, fund, request release, void, release,
dispute, refund. Each command is one transaction under the room's lock: check the role and the
milestone's state, append the room event, write the ledger entry it explains, commit; the event
is published after the commit like any other.

Who may do what (anything else is 403 `role_not_allowed`; a wrong state is 409):
- freelancer: request funding, request release, void a release request, refund (by agreement), dispute;
- client: fund, release (full or partial), dispute;
- support: release or refund a disputed milestone (a dispute's outcome);
- team members and guests: none.

`release_money` and `refund_money` are the one way money leaves escrow; timers, dormancy and
cancellation call them too."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam

from workroom.accounts import Account
from workroom.billing import ledger, release_deadlines
from workroom.billing.models import GatewayPayment, Invoice, Milestone
from workroom.clock import isoformat
from workroom.db.driver import DriverStatement
from workroom.errors import ApiError, conflict, forbidden, invalid, not_found
from workroom.ids import new_id
from workroom.rooms.access import Seat, require_service, seat, seat_from, seat_query
from workroom.rooms.event_rows import row_write
from workroom.rooms.log import SYSTEM, Actor, StoredEvent, lock_room_of
from workroom.rooms.models import Room
from workroom.services import Services, Tx

FUNDING_STATUSES = ("working",)
# Money already in escrow can still be released, refunded or disputed once the job is marked
# complete or has gone into dispute.
ESCROW_STATUSES = ("working", "complete", "disputed")
HOLDING_STATES = ("funded", "release_requested", "disputed")  # money in escrow


# The seat (room locked) and the milestone (locked too, see `seat_query`), in one round trip.
OPEN_MILESTONE = DriverStatement(seat_query(Milestone, lock=True).join(
    Milestone, (Milestone.id == bindparam("milestone_id")) & (Milestone.room_id == Room.id)))


async def open_milestone(tx: Tx, account: Account, room_id: str, milestone_id: str) -> tuple[Seat, Milestone]:
    """The caller's seat (room locked) and the milestone, re-read after the lock."""
    row = await OPEN_MILESTONE.fetchrow(tx, {"room_id": room_id, "account_id": account.id, "milestone_id": milestone_id})
    if row is None:  # say why, in the order of the checks: no seat (404), hourly job (409), no milestone (404)
        require_fixed((await seat(tx, room_id, account, lock=True)).room)
        raise not_found("milestone")
    the_seat, (milestone,) = seat_from(tx, row, account, Milestone)
    require_fixed(the_seat.room)
    return the_seat, milestone


async def load(tx: Tx, room_id: str, milestone_id: str) -> Milestone:
    milestone = await tx.session.get(Milestone, milestone_id, populate_existing=True)
    if milestone is None or milestone.room_id != room_id:
        raise not_found("milestone")
    return milestone


def require_fixed(room: Room) -> None:
    if room.kind != "fixed":
        raise conflict("not_fixed_price", "Escrow milestones belong to fixed-price jobs; this job is hourly.")


def require_status(room: Room, statuses: tuple[str, ...], action: str) -> None:
    if room.status not in statuses:
        raise conflict("job_not_active", f"Cannot {action}: the job is {room.status}.")


def require_state(milestone: Milestone, states: tuple[str, ...], action: str) -> None:
    if milestone.state in states:
        return
    code = {"disputed": "milestone_disputed", "released": "already_released", "refunded": "already_refunded",
            "removed": "milestone_removed"}.get(milestone.state, "invalid_milestone_state")
    raise conflict(code, f"Cannot {action}: milestone \"{milestone.title}\" is {milestone.state.replace('_', ' ')}.")


def money(milestone: Milestone, room: Room, amount: int | None = None, **extra: Any) -> dict[str, Any]:
    """The data every milestone event carries."""
    return {"milestone": milestone.id, "title": milestone.title,
            "amount": milestone.amount if amount is None else amount, "currency": room.currency, **extra}


async def repeat_of(tx: Tx, services: Services, the_seat: Seat, client_id: str | None) -> StoredEvent | None:
    return await services.log.find_repeat(tx, the_seat.room.id, the_seat.account.id, client_id)


# ---- funding ---------------------------------------------------------------------------------

async def request_funding(services: Services, account: Account, room_id: str, milestone_id: str, *,
                          client_id: str | None = None, source: str = "api") -> StoredEvent:
    async with services.transaction() as tx:
        the_seat, milestone = await open_milestone(tx, account, room_id, milestone_id)
        if (repeat := await repeat_of(tx, services, the_seat, client_id)) is not None:
            return repeat
        the_seat.require(("freelancer",), "request funding of a milestone")
        require_status(the_seat.room, FUNDING_STATUSES, "request funding")
        require_state(milestone, ("not_funded",), "request funding")
        milestone.state = "funding_requested"
        return await services.log.append(tx, the_seat.room, "milestone.funding_requested", the_seat.actor,
                                         money(milestone, the_seat.room), source=source, client_id=client_id)


async def fund(services: Services, account: Account, room_id: str, milestone_id: str, method: str, *,
               client_id: str | None = None, source: str = "api") -> StoredEvent:
    async with services.transaction() as tx:
        the_seat, milestone = await open_milestone(tx, account, room_id, milestone_id)
        if (repeat := await repeat_of(tx, services, the_seat, client_id)) is not None:
            return repeat
        the_seat.require(("client",), "fund a milestone")
        require_status(the_seat.room, FUNDING_STATUSES, "fund a milestone")
        require_state(milestone, ("not_funded", "funding_requested"), "fund the milestone")
        room = the_seat.room
        payment = GatewayPayment(id=new_id("pay"), room_id=room.id, milestone_id=milestone.id, amount=milestone.amount,
                                 currency=room.currency, method=method, status="pending", created_at=tx.now)
        result = await services.payment_gateway.charge(payment.id, payment.amount, payment.currency, method)
        payment.gateway_ref = result.reference
        if result.status == "completed":
            return await _complete_funding(tx, services, room, milestone, payment, the_seat.actor, source=source,
                                           client_id=client_id)
        return await services.log.append(tx, room, "milestone.funding_pending", the_seat.actor,
                                         money(milestone, room, payment=payment.id, method=method),
                                         source=source, client_id=client_id, also=[
                                             row_write(payment), row_write(milestone, state="pending",
                                                                           payment_id=payment.id)])


async def _complete_funding(tx: Tx, services: Services, room: Room, milestone: Milestone, payment: GatewayPayment,
                            actor: Actor, *, source: str, client_id: str | None = None) -> StoredEvent:
    # The payment (new, or loaded when the gateway verifies it later), the milestone and the ledger
    # entry are written with the event.
    also = [row_write(payment, status="completed", completed_at=tx.now),
            row_write(milestone, funded_amount=milestone.funded_amount + payment.amount, state="funded",
                      payment_id=payment.id),
            ledger.entry(room, f"{milestone.id}:funding:{payment.id}", ledger.FUNDING,
                         ledger.funding_postings(milestone.id, payment.amount))]
    return await services.log.append(tx, room, "milestone.funded", actor,
                                     money(milestone, room, payment.amount, payment=payment.id),
                                     source=source, client_id=client_id, also=also)


async def payment_verified(services: Services, account: Account, payment_id: str) -> GatewayPayment:
    """The gateway's callback: an unverified funding completes and the milestone becomes funded.
    Only the marketplace's service token (standing in for the gateway's signed webhook) may call it;
    a repeat changes nothing."""
    require_service(account)
    async with services.transaction() as tx:
        payment = await tx.session.get(GatewayPayment, payment_id)
        if payment is None:
            raise not_found("payment")
        room = await lock_room_of(tx, payment)
        if payment.status == "completed":
            return payment
        assert payment.milestone_id is not None
        milestone = await load(tx, room.id, payment.milestone_id)
        if milestone.state != "pending" or milestone.payment_id != payment.id:
            raise conflict("payment_not_pending", "This payment no longer funds a pending milestone.")
        await _complete_funding(tx, services, room, milestone, payment, SYSTEM, source="system")
        return payment


# ---- release requests ------------------------------------------------------------------------

async def request_release(services: Services, account: Account, room_id: str, milestone_id: str, *,
                          client_id: str | None = None, source: str = "api") -> StoredEvent:
    async with services.transaction() as tx:
        the_seat, milestone = await open_milestone(tx, account, room_id, milestone_id)
        if (repeat := await repeat_of(tx, services, the_seat, client_id)) is not None:
            return repeat
        the_seat.require(("freelancer",), "request release of a milestone")
        return await request_release_in(tx, services, the_seat, milestone, source=source, client_id=client_id)


async def request_release_in(tx: Tx, services: Services, the_seat: Seat, milestone: Milestone, *, source: str,
                             client_id: str | None = None, via: str = "request") -> StoredEvent:
    """Open a release request in the caller's transaction (the direct command, or a status report's
    "add to billing" line): a pro-forma invoice for the escrowed amount, and the request's deadlines."""
    room = the_seat.room
    require_status(room, ("working", "complete"), "request release")
    if milestone.state == "release_requested":
        raise conflict("release_already_requested", f"Release of \"{milestone.title}\" is already requested.")
    require_state(milestone, ("funded",), "request release")
    milestone.release_requests += 1
    milestone.release_requested_at, milestone.overdue = tx.now, False
    milestone.state = "release_requested"
    invoice = Invoice(id=new_id("inv"), room_id=room.id, kind="pro_forma", milestone_id=milestone.id,
                      amount=milestone.in_escrow, seconds=0, billable_seconds=0, disputed_seconds=0, paid_amount=0,
                      currency=room.currency, state="issued", created_at=tx.now)
    tx.session.add(invoice)
    milestone.invoice_id = invoice.id
    await release_deadlines.schedule(tx, services, milestone)
    policy = services.policy
    return await services.log.append(tx, room, "milestone.release_requested", the_seat.actor, money(
        milestone, room, milestone.in_escrow, invoice=invoice.id, via=via,
        overdue_at=isoformat(release_deadlines.overdue_at(policy, tx.now)),
        auto_release_at=isoformat(release_deadlines.auto_release_at(policy, tx.now))),
        source=source, client_id=client_id)


async def void_release(services: Services, account: Account, room_id: str, milestone_id: str, *,
                       client_id: str | None = None, source: str = "api") -> StoredEvent:
    async with services.transaction() as tx:
        the_seat, milestone = await open_milestone(tx, account, room_id, milestone_id)
        if (repeat := await repeat_of(tx, services, the_seat, client_id)) is not None:
            return repeat
        the_seat.require(("freelancer",), "void a release request")
        if milestone.state != "release_requested":
            if milestone.state in ("disputed", "released", "refunded"):
                require_state(milestone, ("release_requested",), "void the release request")
            raise conflict("no_release_request", f"There is no release request on \"{milestone.title}\" to void.")
        _change(milestone, await _close_request(tx, services, milestone, "void"), state="funded")
        return await services.log.append(tx, the_seat.room, "milestone.release_voided", the_seat.actor,
                                         money(milestone, the_seat.room, milestone.in_escrow),
                                         source=source, client_id=client_id)


async def _close_request(tx: Tx, services: Services, milestone: Milestone, invoice_state: str) -> dict[str, Any]:
    """End the milestone's release request, if any: its timers and its invoice. Returns the
    milestone's columns that change, for the caller to apply with its own."""
    if milestone.release_requested_at is not None:
        await release_deadlines.cancel(tx, services, milestone)
    if milestone.invoice_id is not None:
        invoice = await tx.session.get(Invoice, milestone.invoice_id)
        if invoice is not None and invoice.state == "issued":
            invoice.state = invoice_state
    return {"release_requested_at": None, "overdue": False, "invoice_id": None}


def _change(milestone: Milestone, changes: dict[str, Any], **more: Any) -> None:
    """Apply `_close_request`'s changes and the caller's own through the ORM (flushed at commit)."""
    for name, value in {**changes, **more}.items():
        setattr(milestone, name, value)


# ---- money leaving escrow --------------------------------------------------------------------

async def release_money(tx: Tx, services: Services, room: Room, milestone: Milestone, amount: int, actor: Actor, *,
                        source: str, reason: str, client_id: str | None = None) -> StoredEvent:
    """Release `amount` of the milestone's escrow to the freelancer, less the platform's fee. The
    caller holds the room lock and has checked who may and that the money is there."""
    assert 0 < amount <= milestone.in_escrow, (amount, milestone.in_escrow)
    fee = ledger.fee_for(amount, services.policy.service_fee_percent)
    remaining = milestone.in_escrow - amount
    data = money(milestone, room, amount, fee=fee, net=amount - fee, remaining=remaining, reason=reason)
    entry = ledger.entry(room, f"{milestone.id}:release:{milestone.released_amount}", ledger.RELEASE,
                         ledger.release_postings(milestone.id, amount, fee))
    changes = await _settle(tx, services, milestone, "paid", released_amount=milestone.released_amount + amount)
    return await services.log.append(tx, room, "milestone.released", actor, data, source=source, client_id=client_id,
                                     also=[row_write(milestone, **changes), entry])


async def refund_money(tx: Tx, services: Services, room: Room, milestone: Milestone, amount: int, actor: Actor, *,
                       source: str, reason: str, why: str | None = None, client_id: str | None = None) -> StoredEvent:
    """Return `amount` of the milestone's escrow to the client (agreement, cancellation, dormancy or
    a dispute's outcome). The caller holds the room lock and has checked who may."""
    assert 0 < amount <= milestone.in_escrow, (amount, milestone.in_escrow)
    remaining = milestone.in_escrow - amount
    data = money(milestone, room, amount, remaining=remaining, reason=reason, note=why)
    entry = ledger.entry(room, f"{milestone.id}:refund:{milestone.refunded_amount}", ledger.REFUND,
                         ledger.refund_postings(milestone.id, amount))
    changes = await _settle(tx, services, milestone, "void", refunded_amount=milestone.refunded_amount + amount)
    return await services.log.append(tx, room, "milestone.refunded", actor, data, source=source, client_id=client_id,
                                     also=[row_write(milestone, **changes), entry])


async def _settle(tx: Tx, services: Services, milestone: Milestone, invoice_state: str,
                  **moved: int) -> dict[str, Any]:
    """After money left escrow (`moved`: the new released or refunded total): any release request
    and dispute are over; what is left stays funded. Returns the milestone's columns that change."""
    changes = {**await _close_request(tx, services, milestone, invoice_state), "disputed_from": None, **moved}
    released = changes.get("released_amount", milestone.released_amount)
    refunded = changes.get("refunded_amount", milestone.refunded_amount)
    if milestone.funded_amount - released - refunded == 0:
        changes["state"] = "released" if released > 0 else "refunded"
    else:
        changes["state"] = "funded"
    return changes


def _settlement_role(the_seat: Seat, milestone: Milestone, party: str, action: str) -> None:
    """The party may act on their own money; support only settles disputes."""
    if the_seat.role == "support":
        if milestone.state != "disputed" and the_seat.room.status != "disputed":
            raise forbidden("support_settles_disputes",
                            f"Support may {action} only as the outcome of a dispute.")
        return
    the_seat.require((party, "support"), action)


def _amount(milestone: Milestone, amount: int | None, action: str) -> int:
    available = milestone.in_escrow
    if amount is None:
        return available
    if amount > available:
        raise ApiError(409, "exceeds_escrow",
                       f"Cannot {action} {amount}: only {available} is in escrow for \"{milestone.title}\".")
    return amount


async def release(services: Services, account: Account, room_id: str, milestone_id: str, amount: int | None, *,
                  client_id: str | None = None, source: str = "api") -> StoredEvent:
    async with services.transaction() as tx:
        the_seat, milestone = await open_milestone(tx, account, room_id, milestone_id)
        if (repeat := await repeat_of(tx, services, the_seat, client_id)) is not None:
            return repeat
        _settlement_role(the_seat, milestone, "client", "release funds")
        require_status(the_seat.room, ESCROW_STATUSES, "release funds")
        require_state(milestone, HOLDING_STATES, "release funds")
        value = _amount(milestone, amount, "release")
        reason = "dispute_outcome" if the_seat.role == "support" else "client"
        return await release_money(tx, services, the_seat.room, milestone, value, the_seat.actor, source=source,
                                   reason=reason, client_id=client_id)


async def refund(services: Services, account: Account, room_id: str, milestone_id: str, amount: int | None,
                 why: str, *, client_id: str | None = None, source: str = "api") -> StoredEvent:
    async with services.transaction() as tx:
        the_seat, milestone = await open_milestone(tx, account, room_id, milestone_id)
        if (repeat := await repeat_of(tx, services, the_seat, client_id)) is not None:
            return repeat
        _settlement_role(the_seat, milestone, "freelancer", "refund funds")
        require_status(the_seat.room, ESCROW_STATUSES, "refund funds")
        require_state(milestone, HOLDING_STATES, "refund funds")
        value = _amount(milestone, amount, "refund")
        reason = "dispute_outcome" if the_seat.role == "support" else "agreement"
        return await refund_money(tx, services, the_seat.room, milestone, value, the_seat.actor, source=source,
                                  reason=reason, why=why, client_id=client_id)


async def dispute(services: Services, account: Account, room_id: str, milestone_id: str, why: str, *,
                  client_id: str | None = None, source: str = "api") -> StoredEvent:
    async with services.transaction() as tx:
        the_seat, milestone = await open_milestone(tx, account, room_id, milestone_id)
        if (repeat := await repeat_of(tx, services, the_seat, client_id)) is not None:
            return repeat
        the_seat.require(("client", "freelancer"), "dispute a milestone")
        require_status(the_seat.room, ESCROW_STATUSES, "dispute a milestone")
        if milestone.state == "disputed":
            raise conflict("already_disputed", f"\"{milestone.title}\" is already in dispute.")
        require_state(milestone, ("funded", "release_requested"), "dispute the milestone")
        return await dispute_in(tx, services, the_seat.room, milestone, the_seat.actor, why, source=source,
                                client_id=client_id)


async def dispute_in(tx: Tx, services: Services, room: Room, milestone: Milestone, actor: Actor, why: str, *,
                     source: str, client_id: str | None = None) -> StoredEvent:
    """Freeze the milestone: its release request's timers stop, and only a dispute's outcome
    (a release or refund) moves its money."""
    _change(milestone, await _close_request(tx, services, milestone, "void"), disputed_from=milestone.state,
            state="disputed")
    return await services.log.append(tx, room, "milestone.disputed", actor,
                                      money(milestone, room, milestone.in_escrow, reason=why),
                                      source=source, client_id=client_id)


def require_positive(amount: int | None, field: str) -> None:
    if amount is not None and amount <= 0:
        raise invalid(field, "must be a positive amount in minor units")
