"""The double-entry ledger: every cent a job moves, as insert-only journal entries of balanced postings.

Accounts are named per job (a posting carries its room): the client's outside money (`client`),
escrow per milestone (`escrow:<milestone id>`), the freelancer's earnings, the platform's fees,
the platform's own expense (courtesy credits), and credits held for the client. A positive amount
raises an account's balance, a negative one lowers it; the postings of an entry sum to zero, so the
whole job always sums to zero. Only the outside world (`client`, `platform_expense`) goes negative:
its balance is what came in from it.

Rules for callers:
- Write an entry with the room event that explains the money (`ledger.entry`, given to
  `RoomLog.append(..., also=...)`), holding the room's lock (`seat(..., lock=True)` or
  `lock_room`): entry and event commit together.
- Give each entry an idempotency key that names the one movement (`m_3:release:2`, `case_9:credit`).
  Writing a key again writes nothing, so a retried request or a timer that fires twice moves
  money once. Reusing a key for different postings raises `KeyReused`.
- Amounts are integers in the room's currency's minor units. Balances are always sums of postings;
  nothing caches them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from sqlalchemy import BindParameter, Integer, String, bindparam, func, insert as sa_insert, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from workroom.billing.models import LedgerEntry, LedgerPosting
from workroom.clock import isoformat
from workroom.rooms.log import EventWrite, StoredEvent
from workroom.rooms.models import Room

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from workroom.services import Tx

# The job's accounts.
CLIENT = "client"  # outside world: the client's payment methods (negative = paid in, net)
FREELANCER = "freelancer_earnings"  # released to the freelancer, after the platform's fee
PLATFORM_FEES = "platform_fees"  # the platform's service fee, taken at release
PLATFORM_EXPENSE = "platform_expense"  # outside world: the platform's own money (courtesy credits)
CLIENT_CREDIT = "client_credit"  # credit the platform gave the client
ESCROW_PREFIX = "escrow:"
OUTSIDE_WORLD = (CLIENT, PLATFORM_EXPENSE)

# Entry kinds.
FUNDING = "funding"  # client -> escrow
RELEASE = "release"  # escrow -> freelancer earnings + platform fee
REFUND = "refund"  # escrow -> client
CREDIT = "credit"  # platform expense -> client credit
HOURLY_PAYMENT = "hourly_payment"  # client -> freelancer earnings + platform fee
KINDS = (FUNDING, RELEASE, REFUND, CREDIT, HOURLY_PAYMENT)

Posting = tuple[str, int]


class Unbalanced(ValueError):
    """The postings of an entry do not sum to zero (or are empty, or not integers)."""


class KeyReused(ValueError):
    """An idempotency key already names an entry with different postings."""


def escrow(milestone_id: str) -> str:
    return f"{ESCROW_PREFIX}{milestone_id}"


def is_escrow(account: str) -> bool:
    return account.startswith(ESCROW_PREFIX)


def fee_for(amount: int, percent: int) -> int:
    """The platform's fee on a release: `percent` of the amount, rounded half up to the minor unit."""
    return (amount * percent + 50) // 100


def funding_postings(milestone_id: str, amount: int) -> list[Posting]:
    return [(CLIENT, -amount), (escrow(milestone_id), amount)]


def release_postings(milestone_id: str, amount: int, fee: int) -> list[Posting]:
    """`amount` leaves escrow; the freelancer gets it less the fee, the platform the fee."""
    postings = [(escrow(milestone_id), -amount), (FREELANCER, amount - fee)]
    return postings + ([(PLATFORM_FEES, fee)] if fee else [])


def refund_postings(milestone_id: str, amount: int) -> list[Posting]:
    return [(escrow(milestone_id), -amount), (CLIENT, amount)]


def credit_postings(amount: int) -> list[Posting]:
    """Support's courtesy credit: the platform pays it from its own money to the client's credit."""
    return [(PLATFORM_EXPENSE, -amount), (CLIENT_CREDIT, amount)]


def hourly_payment_postings(amount: int, fee: int) -> list[Posting]:
    postings = [(CLIENT, -amount), (FREELANCER, amount - fee)]
    return postings + ([(PLATFORM_FEES, fee)] if fee else [])


def check_balanced(postings: Sequence[Posting]) -> None:
    if not postings:
        raise Unbalanced("an entry needs postings")
    for account, amount in postings:
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise Unbalanced(f"amount for {account} is not an integer of minor units: {amount!r}")
        if amount == 0:
            raise Unbalanced(f"zero posting to {account}")
    if sum(amount for _, amount in postings) != 0:
        raise Unbalanced(f"postings sum to {sum(a for _, a in postings)}, not 0: {list(postings)}")


_entries, _postings = LedgerEntry.__table__, LedgerPosting.__table__
# An entry is written with the event that explains it (an EventWrite: `event_seq`, `event_at` are
# the event's), its parameters named `ledger_<field>`. The claim inserts the entry unless an earlier
# try wrote one with this key; the postings go in only when the claim did. PostgreSQL does both in
# the event's own statement (the postings read the claimed row from a WITH); SQLite, which has no
# data-modifying WITH, in two statements, the postings finding the entry this event claimed.
_entry_values: dict[str, BindParameter[Any]] = {
    "room_id": bindparam("ledger_room_id", type_=String()), "key": bindparam("ledger_key", type_=String()),
    "kind": bindparam("ledger_kind", type_=String()), "currency": bindparam("ledger_currency", type_=String()),
    "milestone_id": bindparam("ledger_milestone_id", type_=String()),
    "event_seq": bindparam("event_seq", type_=Integer()),
    "at": bindparam("event_at", type_=_entries.c.at.type), "memo": bindparam("ledger_memo", type_=String())}
_claimed = (postgresql_insert(_entries).values(_entry_values)
            .on_conflict_do_nothing(index_elements=["room_id", "key"]).returning(_entries.c.id).cte("ledger_claimed"))
_posting = (func.unnest(bindparam("ledger_accounts", type_=ARRAY(String())),
                        bindparam("ledger_amounts", type_=ARRAY(Integer())))
            .table_valued("account", "amount").render_derived().alias("posting"))
WRITE_ENTRY = (
    sa_insert(_postings).from_select(
        ["entry_id", "room_id", "account", "amount", "at"],
        select(_claimed.c.id, _entry_values["room_id"], _posting.c.account, _posting.c.amount, _entry_values["at"])
        .select_from(_claimed).join(_posting, true()))
    .returning(_postings.c.entry_id).add_cte(_claimed))
_item = func.json_each(bindparam("ledger_postings_json", type_=String())).table_valued("key", "value").alias("item")
WRITE_ENTRY_SQLITE = (
    sqlite_insert(_entries).values(_entry_values).on_conflict_do_nothing(index_elements=["room_id", "key"]),
    sa_insert(_postings).from_select(
        ["entry_id", "room_id", "account", "amount", "at"],
        select(_entries.c.id, _entries.c.room_id, func.json_extract(_item.c.value, "$[0]"),
               func.json_extract(_item.c.value, "$[1]"), _entries.c.at)
        .select_from(_entries).join(_item, true())
        .where(_entries.c.room_id == _entry_values["room_id"], _entries.c.key == _entry_values["key"],
               _entries.c.event_seq == _entry_values["event_seq"])
        .order_by(_item.c.key))
    .returning(_postings.c.entry_id))
FIND_ENTRY = select(_entries.c.id).where(_entries.c.room_id == bindparam("room_id"), _entries.c.key == bindparam("key"))


async def find(tx: "Tx", room_id: str, key: str) -> int | None:
    """The id of the entry written with this idempotency key, if any."""
    return await tx.session.scalar(FIND_ENTRY, {"room_id": room_id, "key": key})


def entry(room: Room, key: str, kind: str, postings: Sequence[Posting], *, milestone_id: str | None = None,
          memo: str | None = None) -> EventWrite:
    """One balanced entry, written with the room event that explains it, in its transaction:
    `services.log.append(tx, room, ..., also=[ledger.entry(room, key, kind, postings)])` (one entry
    per event). Idempotent per (room, key): when an earlier try wrote this key, nothing is written
    (`KeyReused` when that entry moved other postings). `milestone_id` defaults to the one milestone
    whose escrow the postings touch.

    Example (support's courtesy credit):
        credit = ledger.entry(room, f"{case.id}:credit", ledger.CREDIT, ledger.credit_postings(500))
        await services.log.append(tx, room, "case.credit_granted", actor, data, also=[credit])
    """
    check_balanced(postings)
    if kind not in KINDS:
        raise ValueError(f"unknown entry kind {kind!r}")
    if milestone_id is None:  # an entry that touches one milestone's escrow is about that milestone
        touched = {account[len(ESCROW_PREFIX):] for account, _ in postings if is_escrow(account)}
        milestone_id = touched.pop() if len(touched) == 1 else None
    params = {"ledger_room_id": room.id, "ledger_key": key, "ledger_kind": kind, "ledger_currency": room.currency,
              "ledger_milestone_id": milestone_id, "ledger_memo": memo,
              "ledger_accounts": [account for account, _ in postings], "ledger_amounts": [amount for _, amount in postings],
              "ledger_postings_json": json.dumps(list(postings))}

    async def if_key_was_taken(tx: "Tx", room: Room, event: StoredEvent, written: dict[str, object] | None) -> None:
        if written is not None:
            return
        existing = await find(tx, room.id, key)  # an earlier try wrote this entry: it must be this one
        assert existing is not None
        earlier = await entry_postings(tx.session, existing)
        if sorted(earlier) != sorted(postings):
            raise KeyReused(f"idempotency key {key!r} already moved {earlier}, not {list(postings)}")

    return EventWrite(WRITE_ENTRY, lambda event: params, if_key_was_taken, split=WRITE_ENTRY_SQLITE)


async def entry_postings(session: "AsyncSession", entry_id: int) -> list[Posting]:
    rows = await session.execute(select(LedgerPosting.account, LedgerPosting.amount)
                                 .where(LedgerPosting.entry_id == entry_id).order_by(LedgerPosting.id))
    return [(account, amount) for account, amount in rows.all()]


async def balances(session: "AsyncSession", room_id: str) -> dict[str, int]:
    """Every account of the job with its balance: the sum of its postings."""
    rows = await session.execute(
        select(LedgerPosting.account, func.sum(LedgerPosting.amount))
        .where(LedgerPosting.room_id == room_id).group_by(LedgerPosting.account))
    return {account: int(total) for account, total in rows.all()}


async def balance(session: "AsyncSession", room_id: str, account: str) -> int:
    total = await session.scalar(select(func.coalesce(func.sum(LedgerPosting.amount), 0))
                                 .where(LedgerPosting.room_id == room_id, LedgerPosting.account == account))
    return int(total or 0)


async def escrow_total(session: "AsyncSession", room_id: str) -> int:
    total = await session.scalar(select(func.coalesce(func.sum(LedgerPosting.amount), 0))
                                 .where(LedgerPosting.room_id == room_id,
                                        LedgerPosting.account.startswith(ESCROW_PREFIX)))
    return int(total or 0)


@dataclass(frozen=True)
class JournalLine:
    entry: int
    key: str
    kind: str
    milestone: str | None
    event_seq: int
    account: str
    amount: int
    at: datetime

    def public(self) -> dict[str, object]:
        return {"entry": self.entry, "kind": self.kind, "milestone": self.milestone, "event_seq": self.event_seq,
                "account": self.account, "amount": self.amount, "at": isoformat(self.at)}


async def journal(session: "AsyncSession", room_id: str) -> list[JournalLine]:
    """Every posting of the job in the order it was written, with its entry."""
    rows = await session.execute(
        select(LedgerEntry, LedgerPosting).join(LedgerPosting, LedgerPosting.entry_id == LedgerEntry.id)
        .where(LedgerEntry.room_id == room_id).order_by(LedgerEntry.id, LedgerPosting.id))
    return [JournalLine(e.id, e.key, e.kind, e.milestone_id, e.event_seq, p.account, p.amount, p.at)
            for e, p in rows.all()]


def replay(lines: Iterable[JournalLine]) -> dict[str, int]:
    """Balances recomputed from the journal alone (the invariant tests compare them with `balances`)."""
    totals: dict[str, int] = {}
    for line in lines:
        totals[line.account] = totals.get(line.account, 0) + line.amount
    return {account: total for account, total in totals.items()}
