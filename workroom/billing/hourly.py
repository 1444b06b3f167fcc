"""Hourly jobs (rules/hourly.md): the work diary, the weekly invoice, the client's review.

Weeks run Monday 00:00 to Monday 00:00 UTC. The first diary segment of a week schedules that week's
invoice timer for its end; when it fires, the week's segments become one invoice: tracked hours,
billable hours (capped by the terms' weekly limit), × the hourly rate, rounded half up to the
minor unit. The client approves (the undisputed part is charged through the payment gateway and
paid to the freelancer less the platform fee) or disputes some hours, which are not charged while
the dispute is open. A dispute ends when the client withdraws it (approving with
`include_disputed`) or the freelancer concedes the hours (they are dropped from the invoice)."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import select

from workroom.accounts import Account
from workroom.billing import ledger
from workroom.billing.models import GatewayPayment, Invoice, WorkSegment
from workroom.clock import isoformat
from workroom.errors import ApiError, conflict, invalid, not_found
from workroom.ids import new_id
from workroom.rooms.access import Seat, seat
from workroom.rooms.log import SYSTEM, StoredEvent, lock_room
from workroom.rooms.models import Room
from workroom.services import Services, Tx

from workroom.timers import Timer

WEEK_END_TIMER = "billing.hourly_week_end"
MAX_SEGMENT = timedelta(hours=24)


def week_start(at: datetime) -> datetime:
    day = at.astimezone(timezone.utc).date()
    return datetime.combine(day - timedelta(days=day.weekday()), time(0), tzinfo=timezone.utc)


def amount_for(seconds: int, rate: int) -> int:
    """`rate` minor units per hour, for `seconds`, rounded half up to the minor unit."""
    return (seconds * rate + 1800) // 3600


def require_hourly(room: Room) -> None:
    if room.kind != "hourly":
        raise conflict("not_hourly", "Work diaries and weekly invoices belong to hourly jobs; this job is fixed-price.")


async def _hourly_seat(tx: Tx, account: Account, room_id: str) -> Seat:
    the_seat = await seat(tx, room_id, account, lock=True)
    require_hourly(the_seat.room)
    return the_seat


async def log_time(services: Services, account: Account, room_id: str, start: datetime, end: datetime, memo: str,
                   snapshots: list[dict[str, Any]], *, client_id: str | None = None,
                   source: str = "api") -> StoredEvent:
    async with services.transaction() as tx:
        the_seat = await _hourly_seat(tx, account, room_id)
        if (repeat := await services.log.find_repeat(tx, room_id, account.id, client_id)) is not None:
            return repeat
        the_seat.require(("freelancer",), "log time in the work diary")
        room = the_seat.room
        if room.status != "working":
            raise conflict("job_not_active", f"Time can be logged only on a working job; this job is {room.status}.")
        if end <= start:
            raise invalid("end", "must be after start")
        if end - start > MAX_SEGMENT:
            raise invalid("end", "a diary segment covers at most 24 hours")
        if end > tx.now:
            raise invalid("end", "time cannot be logged in the future")
        week = week_start(start)
        if end > week + timedelta(days=services.policy.hourly_week_days):
            raise invalid("end", "a segment must lie within one invoicing week (Monday 00:00 UTC); split it")
        overlapping = await tx.session.scalar(select(WorkSegment.id).where(
            WorkSegment.room_id == room_id, WorkSegment.start < end, WorkSegment.end > start).limit(1))
        if overlapping is not None:
            raise conflict("overlapping_time", "This time overlaps a segment already in the diary.")
        invoiced = await tx.session.scalar(select(Invoice.id).where(
            Invoice.room_id == room_id, Invoice.kind == "weekly", Invoice.period_start == week))
        if invoiced is not None:
            raise conflict("week_invoiced", "That week has already been invoiced.")
        segment = WorkSegment(id=new_id("ws"), room_id=room_id, start=start, end=end, memo=memo, snapshots=snapshots)
        tx.session.add(segment)
        week_end = week + timedelta(days=services.policy.hourly_week_days)
        week_key = f"{room_id}:{week.date().isoformat()}"
        # The week's first segment schedules its invoice; later ones leave the timer row alone (a
        # worker may be firing it right now, and it always falls due at the same week end).
        if await tx.session.scalar(select(Timer.id).where(Timer.kind == WEEK_END_TIMER, Timer.key == week_key)) is None:
            await services.timers.schedule(tx, WEEK_END_TIMER, week_key, week_end, room_id=room_id,
                                           payload={"week_start": isoformat(week)})
        return await services.log.append(tx, room, "timesheet.submitted", the_seat.actor, {
            **segment.public(), "hours": round((end - start).total_seconds() / 3600, 2),
            "snapshots": len(snapshots)}, source=source, client_id=client_id)


async def issue_weekly_invoice(tx: Tx, services: Services, room_id: str, week: datetime) -> StoredEvent | None:
    """The week-end timer: the week's diary becomes an invoice for the client's review."""
    room = await lock_room(tx, room_id)
    week_end = week + timedelta(days=services.policy.hourly_week_days)
    already = await tx.session.scalar(select(Invoice.id).where(
        Invoice.room_id == room_id, Invoice.kind == "weekly", Invoice.period_start == week))
    if already is not None:
        return None
    segments = (await tx.session.scalars(select(WorkSegment).where(
        WorkSegment.room_id == room_id, WorkSegment.start >= week, WorkSegment.start < week_end,
        WorkSegment.invoice_id.is_(None)))).all()
    if not segments:
        return None
    seconds = sum(int((s.end - s.start).total_seconds()) for s in segments)
    limit = room.weekly_limit_hours * 3600 if room.weekly_limit_hours else None
    billable = min(seconds, limit) if limit is not None else seconds
    rate = room.hourly_rate or 0
    invoice = Invoice(id=new_id("inv"), room_id=room_id, kind="weekly", period_start=week, period_end=week_end,
                      seconds=seconds, billable_seconds=billable, disputed_seconds=0, paid_amount=0, rate=rate,
                      amount=amount_for(billable, rate),
                      currency=room.currency, state="in_review", created_at=tx.now)
    tx.session.add(invoice)
    for segment in segments:
        segment.invoice_id = invoice.id
    return await services.log.append(tx, room, "invoice.issued", SYSTEM, {
        **invoice.public(), "invoice": invoice.id, "weekly_limit_hours": room.weekly_limit_hours,
        "notify": ["client"]}, source="system")


async def _invoice(tx: Tx, room_id: str, invoice_id: str) -> Invoice:
    invoice = await tx.session.get(Invoice, invoice_id, populate_existing=True)
    if invoice is None or invoice.room_id != room_id or invoice.kind != "weekly":
        raise not_found("invoice")
    return invoice


async def approve(services: Services, account: Account, room_id: str, invoice_id: str, *,
                  include_disputed: bool = False, client_id: str | None = None, source: str = "api") -> StoredEvent:
    """The client approves the week: the undisputed hours (all of them with `include_disputed`,
    which withdraws the dispute) are charged and paid to the freelancer less the platform fee."""
    async with services.transaction() as tx:
        the_seat = await _hourly_seat(tx, account, room_id)
        if (repeat := await services.log.find_repeat(tx, room_id, account.id, client_id)) is not None:
            return repeat
        the_seat.require(("client",), "approve an invoice")
        invoice = await _invoice(tx, room_id, invoice_id)
        if invoice.state == "paid":
            raise conflict("already_paid", "This invoice is already paid.")
        withdrawn = invoice.disputed_seconds if include_disputed else 0
        if withdrawn:
            invoice.disputed_seconds = 0
        due = amount_for(invoice.billable_seconds - invoice.disputed_seconds, invoice.rate or 0) - invoice.paid_amount
        if due <= 0:
            raise conflict("nothing_to_pay", "Everything undisputed on this invoice is already paid.")
        room = the_seat.room
        payment = GatewayPayment(id=new_id("pay"), room_id=room_id, amount=due, currency=room.currency,
                                 method="verified", status="pending", created_at=tx.now)
        tx.session.add(payment)
        result = await services.payment_gateway.charge(payment.id, due, room.currency, "verified")
        if result.status != "completed":
            raise ApiError(409, "payment_pending", "The client's payment method needs verification first.")
        payment.status, payment.completed_at, payment.gateway_ref = "completed", tx.now, result.reference
        fee = ledger.fee_for(due, services.policy.service_fee_percent)
        invoice.state = "disputed" if invoice.disputed_seconds else "paid"
        entry = ledger.entry(room, f"{invoice.id}:payment:{invoice.paid_amount}", ledger.HOURLY_PAYMENT,
                             ledger.hourly_payment_postings(due, fee))
        invoice.paid_amount += due
        return await services.log.append(tx, room, "invoice.paid", the_seat.actor, {
            "invoice": invoice.id, "amount": due, "fee": fee, "net": due - fee, "currency": room.currency,
            "payment": payment.id, "withdrawn_dispute_hours": round(withdrawn / 3600, 2),
            "disputed_hours": round(invoice.disputed_seconds / 3600, 2)}, source=source, client_id=client_id,
            also=[entry])


async def dispute(services: Services, account: Account, room_id: str, invoice_id: str, hours: float, why: str, *,
                  client_id: str | None = None, source: str = "api") -> StoredEvent:
    async with services.transaction() as tx:
        the_seat = await _hourly_seat(tx, account, room_id)
        if (repeat := await services.log.find_repeat(tx, room_id, account.id, client_id)) is not None:
            return repeat
        the_seat.require(("client",), "dispute hours")
        invoice = await _invoice(tx, room_id, invoice_id)
        if invoice.state != "in_review":
            raise conflict("invoice_not_in_review", f"Only an invoice in review can be disputed; this one is {invoice.state}.")
        seconds = round(hours * 3600)
        if seconds <= 0 or seconds > invoice.billable_seconds:
            raise invalid("hours", f"must be more than 0 and at most the {invoice.billable_seconds / 3600:g} billable hours")
        invoice.disputed_seconds, invoice.dispute_reason, invoice.state = seconds, why, "disputed"
        return await services.log.append(tx, the_seat.room, "invoice.disputed", the_seat.actor, {
            "invoice": invoice.id, "hours": round(seconds / 3600, 2), "reason": why,
            "undisputed_amount": amount_for(invoice.billable_seconds - seconds, invoice.rate or 0),
            "currency": invoice.currency}, source=source, client_id=client_id)


async def concede(services: Services, account: Account, room_id: str, invoice_id: str, *,
                  client_id: str | None = None, source: str = "api") -> StoredEvent:
    """The freelancer accepts the client's dispute: the disputed hours leave the invoice."""
    async with services.transaction() as tx:
        the_seat = await _hourly_seat(tx, account, room_id)
        if (repeat := await services.log.find_repeat(tx, room_id, account.id, client_id)) is not None:
            return repeat
        the_seat.require(("freelancer",), "concede disputed hours")
        invoice = await _invoice(tx, room_id, invoice_id)
        if invoice.state != "disputed" or not invoice.disputed_seconds:
            raise conflict("not_disputed", "No hours of this invoice are in dispute.")
        dropped = invoice.disputed_seconds
        invoice.billable_seconds -= dropped
        invoice.disputed_seconds = 0
        invoice.amount = amount_for(invoice.billable_seconds, invoice.rate or 0)
        invoice.state = "paid" if invoice.paid_amount and invoice.paid_amount >= invoice.amount else "in_review"
        return await services.log.append(tx, the_seat.room, "invoice.dispute_conceded", the_seat.actor, {
            "invoice": invoice.id, "hours_dropped": round(dropped / 3600, 2), "amount": invoice.amount,
            "currency": invoice.currency}, source=source, client_id=client_id)


async def invoices(tx: Tx, room_id: str) -> list[dict[str, Any]]:
    rows = await tx.session.scalars(select(Invoice).where(Invoice.room_id == room_id)
                                    .order_by(Invoice.created_at, Invoice.id))
    return [invoice.public() for invoice in rows.all()]


def install(services: Services) -> None:
    async def on_week_end(tx: Tx, timer: "Timer") -> None:
        assert timer.room_id is not None
        room_id, week = timer.room_id, timer.key.rsplit(":", 1)[1]
        await issue_weekly_invoice(tx, services, room_id,
                                   datetime.fromisoformat(week).replace(tzinfo=timezone.utc))

    services.timers.handlers[WEEK_END_TIMER] = on_week_end
