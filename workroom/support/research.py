"""The research summary an agent needs when a case opens, gathered by the server from the room's
record and the ledger: contract type, total spend, refunds and credits so far, the last message
and last payment from each party, whether work was delivered, and the courtesy credit suggestion."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from workroom.billing import ledger
from workroom.billing.models import Milestone, WorkSegment
from workroom.billing.queries import MoneySummary, money_summary, payments
from workroom.clock import isoformat
from workroom.policy import Policy
from workroom.rooms.access import party
from workroom.rooms.models import Event, Room, RoomFile
from workroom.services import Tx

EXCERPT_CHARS = 200


def credit_basis(money: MoneySummary) -> int:
    """The payments on the contract that were not refunded: everything the client paid in
    (escrow fundings and hourly payments) less what went back to them."""
    return max(0, money.funded + money.hourly_paid - money.refunded)


def suggested_credit(policy: Policy, money: MoneySummary) -> int:
    """The typical courtesy credit: the policy's percent of the basis, rounded half up to the minor unit."""
    return (credit_basis(money) * policy.courtesy_credit_percent + 50) // 100


async def _last_message(tx: Tx, room_id: str, account_id: str) -> dict[str, Any] | None:
    row = await tx.session.scalar(
        select(Event).where(Event.room_id == room_id, Event.actor_id == account_id, Event.type == "message.posted")
        .order_by(Event.seq.desc()).limit(1))
    if row is None:
        return None
    body = json.loads(row.envelope)["data"].get("body", "")
    return {"seq": row.seq, "at": isoformat(row.at), "excerpt": body[:EXCERPT_CHARS]}


async def _last_entry(tx: Tx, room_id: str, kinds: tuple[str, ...]) -> dict[str, Any] | None:
    lines = [line for line in await ledger.journal(tx.session, room_id) if line.kind in kinds]
    if not lines:
        return None
    last = lines[-1].entry
    amount = sum(line.amount for line in lines if line.entry == last and line.amount > 0)
    return {"kind": lines[-1].kind, "amount": amount, "at": isoformat(lines[-1].at), "event_seq": lines[-1].event_seq}


async def work_delivered(tx: Tx, room: Room, freelancer_id: str) -> dict[str, Any]:
    """Evidence of delivered work, from what the freelancer did in the room and the billing state."""
    evidence = []
    milestones = (await tx.session.scalars(select(Milestone).where(Milestone.room_id == room.id)
                                           .order_by(Milestone.position))).all()
    for milestone in milestones:
        if milestone.state in ("release_requested", "released"):
            evidence.append(f"milestone '{milestone.title}' {milestone.state.replace('_', ' ')}")
        elif milestone.percent_complete == 100:
            evidence.append(f"milestone '{milestone.title}' reported 100% complete")
    files = await tx.session.scalar(select(func.count()).select_from(RoomFile)
                                    .where(RoomFile.room_id == room.id, RoomFile.uploader_id == freelancer_id))
    if files:
        evidence.append(f"{files} file(s) shared by the freelancer")
    reports = await tx.session.scalar(select(func.count()).select_from(Event).where(
        Event.room_id == room.id, Event.actor_id == freelancer_id, Event.type == "status_report.submitted"))
    if reports:
        evidence.append(f"{reports} status report(s) filed")
    segments = await tx.session.scalar(select(func.count()).select_from(WorkSegment).where(WorkSegment.room_id == room.id))
    if segments:
        evidence.append(f"{segments} span(s) of hourly work logged")
    return {"delivered": bool(evidence), "evidence": evidence}


async def research_summary(tx: Tx, policy: Policy, room: Room) -> dict[str, Any]:
    money = await money_summary(tx, room.id)
    paid = await payments(tx, room.id)
    client, freelancer = (await party(tx, room.id, "client")).id, (await party(tx, room.id, "freelancer")).id
    last_paid = paid[-1] if paid else None
    return {
        "contract": {"kind": room.kind, "status": room.status, "currency": room.currency,
                     "started_at": isoformat(room.started_at) if room.started_at else None,
                     "completed_at": isoformat(room.completed_at) if room.completed_at else None},
        "money": {"total_spend": money.total_spend, "funded": money.funded, "in_escrow": money.in_escrow,
                  "refunds": money.refunded, "credits": money.credits, "currency": money.currency},
        "parties": {
            "client": {
                "id": client, "last_message": await _last_message(tx, room.id, client),
                # the client's money reaching the freelancer: a release or a paid hourly invoice
                "last_payment": {"kind": last_paid.kind, "amount": last_paid.amount, "at": isoformat(last_paid.at)}
                if last_paid else None,
            },
            "freelancer": {
                "id": freelancer, "last_message": await _last_message(tx, room.id, freelancer),
                # money going back to the client from the freelancer's side of escrow
                "last_payment": await _last_entry(tx, room.id, (ledger.REFUND,)),
            },
        },
        "work_delivered": await work_delivered(tx, room, freelancer),
        "courtesy_credit": {"suggested": suggested_credit(policy, money), "percent": policy.courtesy_credit_percent,
                            "basis": credit_basis(money), "currency": room.currency},
    }
