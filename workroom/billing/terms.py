"""Terms changes: either party proposes, the other accepts (the change applies) or declines.

A proposal may set the milestones (each listed with its `id` keeps that milestone, new ones have
none; a milestone left out is removed) and, on hourly jobs, the rate and weekly limit. Money
already moved is never rewritten: a milestone with money in escrow (or paid out) keeps its amount
and cannot be removed. One proposal is open at a time. Checks run at proposal and again at
acceptance, since milestones may have been funded in between."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select

from workroom.accounts import Account
from workroom.billing.models import Milestone, TermsProposal
from workroom.errors import conflict, forbidden, invalid, not_found
from workroom.ids import new_id
from workroom.rooms.access import seat
from workroom.rooms.log import StoredEvent
from workroom.rooms.models import Room
from workroom.services import Services, Tx

EDITABLE_STATES = ("not_funded", "funding_requested")
TERMS_STATUSES = ("proposal", "working")


@dataclass(frozen=True)
class MilestoneTerms:
    id: str | None
    title: str
    amount: int
    due_date: date | None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "amount": self.amount,
                "due_date": self.due_date.isoformat() if self.due_date else None}


@dataclass(frozen=True)
class TermsChange:
    milestones: tuple[MilestoneTerms, ...] | None = None
    hourly_rate: int | None = None
    weekly_limit_hours: int | None = None
    note: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"milestones": [m.as_json() for m in self.milestones] if self.milestones is not None else None,
                "hourly_rate": self.hourly_rate, "weekly_limit_hours": self.weekly_limit_hours, "note": self.note}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "TermsChange":
        items = data.get("milestones")
        milestones = None if items is None else tuple(
            MilestoneTerms(m["id"], m["title"], m["amount"], date.fromisoformat(m["due_date"]) if m["due_date"] else None)
            for m in items)
        return cls(milestones, data.get("hourly_rate"), data.get("weekly_limit_hours"), data.get("note"))


async def _check(tx: Tx, room: Room, change: TermsChange) -> list[Milestone]:
    """Raise if the change cannot apply to the room as it is now; returns the current milestones."""
    current = list((await tx.session.scalars(select(Milestone).where(
        Milestone.room_id == room.id, Milestone.state != "removed").order_by(Milestone.position)
        .execution_options(populate_existing=True))).all())
    if room.kind == "fixed" and (change.hourly_rate is not None or change.weekly_limit_hours is not None):
        raise invalid("hourly_rate", "a fixed-price job has no hourly terms")
    if room.kind == "hourly" and change.milestones:
        raise invalid("milestones", "hourly jobs have no escrow milestones")
    if change.milestones is None:
        if change.hourly_rate is None and change.weekly_limit_hours is None:
            raise invalid("milestones", "a terms change must change something")
        return current
    by_id = {m.id: m for m in current}
    listed = [m.id for m in change.milestones if m.id is not None]
    if len(set(listed)) != len(listed):
        raise invalid("milestones", "a milestone is listed twice")
    for item in change.milestones:
        if item.id is None:
            continue
        existing = by_id.get(item.id)
        if existing is None:
            raise invalid("milestones", f"{item.id} is not a milestone of this job")
        if item.amount != existing.amount and existing.state not in EDITABLE_STATES:
            raise conflict("milestone_funded", f"\"{existing.title}\" is {existing.state.replace('_', ' ')}; "
                           "its amount can no longer change.")
    for existing in current:
        if existing.id not in listed and existing.state not in EDITABLE_STATES:
            raise conflict("milestone_funded", f"\"{existing.title}\" is {existing.state.replace('_', ' ')}; "
                           "it cannot be removed from the terms.")
    return current


async def propose(services: Services, account: Account, room_id: str, change: TermsChange, *,
                  client_id: str | None = None, source: str = "api") -> StoredEvent:
    async with services.transaction() as tx:
        the_seat = await seat(tx, room_id, account, lock=True)
        if (repeat := await services.log.find_repeat(tx, room_id, account.id, client_id)) is not None:
            return repeat
        the_seat.require(("client", "freelancer"), "propose new terms")
        room = the_seat.room
        if room.status not in TERMS_STATUSES:
            raise conflict("job_not_active", f"Terms cannot change on a job that is {room.status}.")
        open_one = await tx.session.scalar(select(TermsProposal.id).where(
            TermsProposal.room_id == room_id, TermsProposal.status == "proposed"))
        if open_one is not None:
            raise conflict("terms_pending", "Another terms change is awaiting an answer; accept or decline it first.")
        await _check(tx, room, change)
        proposal = TermsProposal(id=new_id("t"), room_id=room_id, proposer_id=account.id,
                                 proposer_role=the_seat.role, changes=change.as_json(), created_at=tx.now)
        tx.session.add(proposal)
        return await services.log.append(tx, room, "terms.proposed", the_seat.actor,
                                         {"terms": proposal.id, **change.as_json(), "currency": room.currency},
                                         source=source, client_id=client_id)


async def answer(services: Services, account: Account, room_id: str, proposal_id: str, accept: bool, *,
                 source: str = "api") -> StoredEvent:
    async with services.transaction() as tx:
        the_seat = await seat(tx, room_id, account, lock=True)
        the_seat.require(("client", "freelancer"), "answer a terms change")
        proposal = await tx.session.get(TermsProposal, proposal_id, populate_existing=True)
        if proposal is None or proposal.room_id != room_id:
            raise not_found("terms")
        if proposal.status != "proposed":
            raise conflict("terms_answered", f"This terms change was already {proposal.status}.")
        if proposal.proposer_role == the_seat.role:
            raise forbidden("own_proposal", "The other party answers a terms change, not the one who proposed it.")
        room = the_seat.room
        proposal.decided_at = tx.now
        if not accept:
            proposal.status = "declined"
            return await services.log.append(tx, room, "terms.declined", the_seat.actor, {"terms": proposal.id},
                                             source=source)
        if room.status not in TERMS_STATUSES:
            raise conflict("job_not_active", f"Terms cannot change on a job that is {room.status}.")
        change = TermsChange.from_json(proposal.changes)
        current = await _check(tx, room, change)
        proposal.status = "accepted"
        await _apply(tx, room, change, current)
        views = (await tx.session.scalars(select(Milestone).where(
            Milestone.room_id == room_id, Milestone.state != "removed").order_by(Milestone.position))).all()
        return await services.log.append(tx, room, "terms.accepted", the_seat.actor, {
            "terms": proposal.id, "milestones": [m.public() for m in views], "hourly_rate": room.hourly_rate,
            "weekly_limit_hours": room.weekly_limit_hours, "currency": room.currency}, source=source)


async def _apply(tx: Tx, room: Room, change: TermsChange, current: list[Milestone]) -> None:
    if change.hourly_rate is not None:
        room.hourly_rate = change.hourly_rate
    if change.weekly_limit_hours is not None:
        room.weekly_limit_hours = change.weekly_limit_hours
    if change.milestones is None:
        return
    by_id = {m.id: m for m in current}
    listed = {m.id for m in change.milestones if m.id is not None}
    for existing in current:
        if existing.id not in listed:
            existing.state = "removed"
    position = int(await tx.session.scalar(select(func.coalesce(func.max(Milestone.position), 0))
                                           .where(Milestone.room_id == room.id)) or 0)
    for order, item in enumerate(change.milestones, start=1):
        if item.id is not None:
            milestone = by_id[item.id]
            milestone.title, milestone.amount, milestone.due_date = item.title, item.amount, item.due_date
        else:
            position += 1
            tx.session.add(Milestone(id=new_id("m"), room_id=room.id, position=position, title=item.title,
                                     amount=item.amount, due_date=item.due_date, state="not_funded"))
    await tx.session.flush()
