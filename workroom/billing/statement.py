"""The escrow closing statement: every deposit, release, refund, fee, credit and hourly payment of
the job, with totals, built from the ledger alone and checked against the ledger's balances to
the cent. Informational; JSON for programs and a printable HTML page (all user text escaped)."""

from __future__ import annotations

from html import escape
from typing import Any

from sqlalchemy import select

from workroom.billing import ledger
from workroom.billing.models import LedgerEntry, LedgerPosting, Milestone
from workroom.clock import isoformat
from workroom.rooms.log import SYSTEM, StoredEvent
from workroom.rooms.models import Room
from workroom.services import Services, Tx

LABELS = {ledger.FUNDING: "Deposit", ledger.RELEASE: "Release", ledger.REFUND: "Refund",
          ledger.CREDIT: "Credit", ledger.HOURLY_PAYMENT: "Hourly payment"}
CLOSED_STATUSES = ("complete", "cancelled", "expired")


async def build(tx: Tx, room: Room) -> dict[str, Any]:
    titles = {m.id: m.title for m in (await tx.session.scalars(select(Milestone).where(Milestone.room_id == room.id)))}
    rows = await tx.session.execute(
        select(LedgerEntry, LedgerPosting).join(LedgerPosting, LedgerPosting.entry_id == LedgerEntry.id)
        .where(LedgerEntry.room_id == room.id).order_by(LedgerEntry.id, LedgerPosting.id))
    entries: dict[int, tuple[LedgerEntry, dict[str, int]]] = {}
    for entry, posting in rows.all():
        accounts = entries.setdefault(entry.id, (entry, {}))[1]
        kind = "escrow" if ledger.is_escrow(posting.account) else posting.account
        accounts[kind] = accounts.get(kind, 0) + posting.amount
    lines = []
    totals = {"deposits": 0, "releases": 0, "fees": 0, "paid_to_freelancer": 0, "refunds": 0, "credits": 0,
              "hourly_payments": 0}
    for entry, accounts in entries.values():
        fee = accounts.get(ledger.PLATFORM_FEES, 0)
        net = accounts.get(ledger.FREELANCER, 0)
        if entry.kind == ledger.FUNDING:
            amount = accounts["escrow"]
            totals["deposits"] += amount
        elif entry.kind == ledger.RELEASE:
            amount = -accounts["escrow"]
            totals["releases"] += amount
        elif entry.kind == ledger.REFUND:
            amount = accounts[ledger.CLIENT]
            totals["refunds"] += amount
        elif entry.kind == ledger.CREDIT:
            amount = accounts[ledger.CLIENT_CREDIT]
            totals["credits"] += amount
        else:
            amount = -accounts[ledger.CLIENT]
            totals["hourly_payments"] += amount
        totals["fees"] += fee
        totals["paid_to_freelancer"] += net
        lines.append({"entry": entry.id, "at": isoformat(entry.at), "kind": entry.kind, "label": LABELS[entry.kind],
                      "milestone": entry.milestone_id, "title": titles.get(entry.milestone_id or "", entry.memo),
                      "amount": amount, "fee": fee, "net": net, "event_seq": entry.event_seq})
    totals["in_escrow"] = totals["deposits"] - totals["releases"] - totals["refunds"]
    balances = await ledger.balances(tx.session, room.id)
    escrow_balance = sum(v for k, v in balances.items() if ledger.is_escrow(k))
    checks = {
        "in_escrow": escrow_balance == totals["in_escrow"],
        "client": -balances.get(ledger.CLIENT, 0) == totals["deposits"] + totals["hourly_payments"] - totals["refunds"],
        "freelancer": balances.get(ledger.FREELANCER, 0) == totals["paid_to_freelancer"],
        "fees": balances.get(ledger.PLATFORM_FEES, 0) == totals["fees"],
        "credits": balances.get(ledger.CLIENT_CREDIT, 0) == totals["credits"],
        "balanced": sum(balances.values()) == 0,
        "paid_out": totals["releases"] + totals["hourly_payments"] == totals["paid_to_freelancer"] + totals["fees"],
    }
    return {
        "room": {"id": room.id, "title": room.title, "status": room.status, "kind": room.kind},
        "currency": room.currency, "generated_at": isoformat(tx.now),
        "closing": room.status in CLOSED_STATUSES and totals["in_escrow"] == 0,
        "lines": lines, "totals": totals, "ledger_balances": balances,
        "reconciliation": {"checks": checks, "reconciles": all(checks.values())},
    }


async def issue(tx: Tx, services: Services, room: Room) -> StoredEvent:
    """The job has ended (completed or cancelled): both parties get the closing statement's totals
    in the room, and so by mail, with the link to the full statement."""
    document = await build(tx, room)
    return await services.log.append(tx, room, "escrow.statement_issued", SYSTEM, {
        "totals": document["totals"], "currency": room.currency,
        "reconciles": document["reconciliation"]["reconciles"], "closing": document["closing"],
        "statement": f"/api/rooms/{room.id}/statement?format=html", "notify": ["client", "freelancer"]},
        source="system")


def _money(amount: int, currency: str) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount) // 100:,}.{abs(amount) % 100:02d} {escape(currency)}"


def render_html(statement: dict[str, Any]) -> str:
    currency = statement["currency"]
    room = statement["room"]
    rows = "".join(
        f"<tr><td>{escape(line['at'][:10])}</td><td>{escape(line['label'])}</td>"
        f"<td>{escape(str(line['title'] or ''))}</td><td class=n>{_money(line['amount'], currency)}</td>"
        f"<td class=n>{_money(line['fee'], currency) if line['fee'] else ''}</td>"
        f"<td class=n>{_money(line['net'], currency) if line['net'] else ''}</td></tr>"
        for line in statement["lines"])
    labels = {"deposits": "Deposited into escrow", "releases": "Released from escrow",
              "hourly_payments": "Hourly invoices paid", "fees": "Platform service fees",
              "paid_to_freelancer": "Paid to the freelancer", "refunds": "Refunded to the client",
              "credits": "Credits to the client", "in_escrow": "Still in escrow"}
    totals = "".join(f"<tr><th>{escape(label)}</th><td class=n>{_money(statement['totals'][key], currency)}</td></tr>"
                     for key, label in labels.items())
    verdict = "Reconciles with the ledger to the cent." if statement["reconciliation"]["reconciles"] else \
        "DOES NOT reconcile with the ledger."
    title = "Escrow closing statement" if statement["closing"] else "Escrow statement (job still open)"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}: {escape(room['title'])}</title>
<style>body{{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#111}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border-bottom:1px solid #ccc;padding:.3em .8em;text-align:left}}.n{{text-align:right;font-variant-numeric:tabular-nums}}
@media print{{body{{margin:0}}}}</style></head><body>
<h1>{escape(title)}</h1>
<p><strong>{escape(room['title'])}</strong> · job {escape(room['id'])} · status {escape(room['status'])} ·
generated {escape(statement['generated_at'])}</p>
<table><thead><tr><th>Date</th><th>What</th><th>Milestone / note</th><th class=n>Amount</th><th class=n>Fee</th>
<th class=n>To freelancer</th></tr></thead><tbody>{rows}</tbody></table>
<h2>Totals</h2><table>{totals}</table>
<p>{escape(verdict)}</p>
</body></html>"""
