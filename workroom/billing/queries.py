"""Read-only money questions other packages ask about a job (feedback eligibility, support's
research summary). Everything here is derived from the ledger, so it always agrees with the
statement and `GET …/ledger` to the cent. Call inside any `Tx` (no lock needed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from workroom.billing import ledger
from workroom.billing.models import LedgerEntry, LedgerPosting
from workroom.rooms.models import Room

if TYPE_CHECKING:
    from workroom.services import Tx


@dataclass(frozen=True)
class Payment:
    """Money that reached the freelancer: a milestone release (full, partial, automatic, by
    dormancy or cancellation) or a paid hourly invoice.

    `amount` is the gross amount paid out of the client's money (escrow or card) in minor units,
    `fee` the platform's service fee taken from it, `net` what the freelancer received
    (`amount - fee`). `at` is when it was released/paid (the ledger entry's time, UTC)."""

    entry_id: int
    kind: str  # "release" | "hourly_payment"
    milestone_id: str | None
    amount: int
    fee: int
    net: int
    currency: str
    at: datetime


@dataclass(frozen=True)
class MoneySummary:
    """The job's money at a glance, in minor units of `currency`.

    - `funded`: deposited into escrow by the client (verified fundings only).
    - `released`: paid out of escrow to the freelancer, gross (before the fee).
    - `hourly_paid`: hourly invoices paid by the client, gross.
    - `total_spend`: what the client paid for work: `released + hourly_paid`.
    - `fees`: the platform's service fees taken on releases and hourly payments.
    - `refunded`: returned from escrow to the client.
    - `credits`: courtesy credits the platform gave the client.
    - `in_escrow`: still held: `funded - released - refunded`.
    - `payments`: how many payments reached the freelancer (see `payments`)."""

    currency: str
    funded: int
    released: int
    hourly_paid: int
    total_spend: int
    fees: int
    refunded: int
    credits: int
    in_escrow: int
    payments: int

    def public(self) -> dict[str, object]:
        return dict(self.__dict__)


async def payments(tx: "Tx", room_id: str) -> list[Payment]:
    """Every payment that reached the freelancer on this job, oldest first. Empty when none was
    released or paid (feedback rules: "a payment was released"; "a payment in the previous 30 days"
    is `any(p.at >= now - 30 days for p in payments)`)."""
    rows = await tx.session.execute(
        select(LedgerEntry, LedgerPosting.account, LedgerPosting.amount)
        .join(LedgerPosting, LedgerPosting.entry_id == LedgerEntry.id)
        .where(LedgerEntry.room_id == room_id, LedgerEntry.kind.in_((ledger.RELEASE, ledger.HOURLY_PAYMENT)))
        .order_by(LedgerEntry.id, LedgerPosting.id))
    entries: dict[int, LedgerEntry] = {}
    net: dict[int, int] = {}
    fee: dict[int, int] = {}
    for entry, account, amount in rows.all():
        entries[entry.id] = entry
        if account == ledger.FREELANCER:
            net[entry.id] = net.get(entry.id, 0) + amount
        elif account == ledger.PLATFORM_FEES:
            fee[entry.id] = fee.get(entry.id, 0) + amount
    return [Payment(entry_id=entry.id, kind=entry.kind, milestone_id=entry.milestone_id,
                    amount=net.get(entry.id, 0) + fee.get(entry.id, 0), fee=fee.get(entry.id, 0),
                    net=net.get(entry.id, 0), currency=entry.currency, at=entry.at)
            for entry in entries.values()]


async def money_summary(tx: "Tx", room_id: str) -> MoneySummary:
    """Totals of the job's money (see `MoneySummary`), derived from the ledger's postings."""
    room = await tx.session.get(Room, room_id)
    currency = room.currency if room is not None else ""
    rows = await tx.session.execute(
        select(LedgerEntry.kind, LedgerPosting.account, LedgerPosting.amount)
        .join(LedgerPosting, LedgerPosting.entry_id == LedgerEntry.id).where(LedgerEntry.room_id == room_id))
    funded = released = hourly_paid = fees = refunded = credits = 0
    for kind, account, amount in rows.all():
        if kind == ledger.FUNDING and ledger.is_escrow(account):
            funded += amount
        elif kind == ledger.RELEASE and ledger.is_escrow(account):
            released -= amount
        elif kind == ledger.HOURLY_PAYMENT and account == ledger.CLIENT:
            hourly_paid -= amount
        elif kind == ledger.REFUND and ledger.is_escrow(account):
            refunded -= amount
        elif kind == ledger.CREDIT and account == ledger.CLIENT_CREDIT:
            credits += amount
        if account == ledger.PLATFORM_FEES:
            fees += amount
    paid = await payments(tx, room_id)
    return MoneySummary(currency=currency, funded=funded, released=released, hourly_paid=hourly_paid,
                        total_spend=released + hourly_paid, fees=fees, refunded=refunded, credits=credits,
                        in_escrow=funded - released - refunded, payments=len(paid))
