"""What a support agent does on a case. Each action is one transaction under the room's lock and
appends a `case.*` event, so the parties see the mediation in the room's record (and by mail);
the rows in `support_cases` / `case_approvals` only hold the state the rules need."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from workroom.accounts import Account
from workroom.billing import ledger
from workroom.clock import isoformat
from workroom.errors import ApiError, conflict, forbidden, invalid, not_found
from workroom.ids import new_id
from workroom.rooms.access import Seat, membership, party as room_party, require_staff, seat
from workroom.rooms.log import SYSTEM, Actor, StoredEvent, lock_room, lock_room_of
from workroom.rooms.models import Room
from workroom.services import Services, Tx
from workroom.support.models import CaseApproval, SupportCase
from workroom.support.research import research_summary

OUTREACH_TIMER = "case.outreach_window"
# What the agent offers the client once the other party stays silent (support.md).
SILENT_PARTY_OPTIONS = (
    {"option": "close_contract", "label": "Close the contract"},
    {"option": "leave_feedback", "label": "Leave feedback"},
    {"option": "move_on", "label": "Move on, with help posting a new job"},
)


@dataclass(frozen=True)
class CaseSeat:
    """A staff member acting on a case, seated in its room (locked for the append)."""

    case: SupportCase
    seat: Seat


def needs_second_approval(services: Services, case: SupportCase) -> bool:
    return case.disputed_amount > services.policy.second_approval_over_disputed


async def _agent_seat(tx: Tx, room_id: str, agent: Account) -> Seat:
    """Staff act in a room only after joining it openly (`support.joined`)."""
    require_staff(agent)
    member = await membership(tx, room_id, agent.id)
    if member is None or member.removed_at is not None or member.role != "support":
        await lock_room(tx, room_id)  # 404 for a room that does not exist
        raise conflict("join_first", "Join the room as support first, so the parties see who is mediating.")
    return await seat(tx, room_id, agent, lock=True)


async def case_seat(tx: Tx, case_id: str, agent: Account) -> CaseSeat:
    """The agent's seat on an open case, its room locked; 409 once the case has ended."""
    require_staff(agent)
    case = await tx.session.get(SupportCase, case_id)
    if case is None:
        raise not_found("case")
    the_seat = await _agent_seat(tx, case.room_id, agent)
    await tx.session.refresh(case)  # read again under the room's lock
    if case.status != "open":
        raise conflict("case_ended", f"This case was {case.status}.")
    return CaseSeat(case, the_seat)


async def open_case(services: Services, agent: Account, room_id: str, complaint: str, wants: str,
                    disputed_amount: int, *, source: str = "api") -> tuple[SupportCase, StoredEvent]:
    async with services.transaction() as tx:
        the_seat = await _agent_seat(tx, room_id, agent)
        room = the_seat.room
        if room.status == "proposal":
            raise conflict("invalid_status", "A proposal has no contract to mediate yet.")
        already = await tx.session.scalar(select(SupportCase.id).where(SupportCase.room_id == room_id,
                                                                       SupportCase.status == "open"))
        if already is not None:
            raise conflict("case_open", f"Case {already} is already open on this room.")
        case = SupportCase(id=new_id("cs"), room_id=room_id, agent_id=agent.id, status="open", complaint=complaint,
                           wants=wants, disputed_amount=disputed_amount, opened_at=tx.now,
                           research=await research_summary(tx, services.policy, room))
        tx.session.add(case)
        await tx.session.flush()
        event = await services.log.append(tx, room, "case.opened", the_seat.actor, {
            "case": case.id, "complaint": complaint, "wants": wants, "disputed_amount": disputed_amount,
            "currency": room.currency, "second_approval_required": needs_second_approval(services, case),
        }, source=source)
        return case, event


async def log_outreach(services: Services, agent: Account, case_id: str, party: str, channel: str,
                       responded: bool, note: str | None, *, source: str = "api") -> StoredEvent:
    """Record one attempt to reach a party. The first starts the outreach window; a response
    closes it as answered; after the window the avenue is closed (the timer says so in the room)."""
    async with services.transaction() as tx:
        cs = await case_seat(tx, case_id, agent)
        case, room = cs.case, cs.seat.room
        target = await room_party(tx, room.id, party)
        if case.outreach_state == "closed":
            raise conflict("outreach_closed", "The outreach window has closed; offer the client the other options.")
        if case.outreach_party_id is not None and case.outreach_party_id != target.id:
            raise conflict("outreach_other_party", "Outreach on this case is to the other party.")
        window = services.policy.outreach_window
        if case.outreach_state == "none":
            case.outreach_party_id, case.outreach_started_at, case.outreach_state = target.id, tx.now, "open"
            await services.timers.schedule(tx, OUTREACH_TIMER, case.id, tx.now + window, room_id=room.id)
        case.outreach_attempts += 1
        if responded:
            case.outreach_state = "responded"
            await services.timers.cancel(tx, OUTREACH_TIMER, case.id)
        assert case.outreach_started_at is not None
        return await services.log.append(tx, room, "case.outreach_logged", cs.seat.actor, {
            "case": case.id, "party": {"id": target.id, "name": target.name, "role": party}, "channel": channel,
            "responded": responded, "note": note, "attempt": case.outreach_attempts,
            "window_closes_at": None if case.outreach_state == "responded"
            else isoformat(case.outreach_started_at + window),
        }, source=source)


async def outreach_window_closed(tx: Tx, services: Services, case_id: str) -> None:
    """The timer: 48 hours without a response close the outreach avenue, and the room is told,
    with the options the client has now."""
    case = await tx.session.get(SupportCase, case_id)
    if case is None:
        return
    room = await lock_room_of(tx, case)
    if case.status != "open" or case.outreach_state != "open":
        return  # answered, or the case ended, since the timer was set
    case.outreach_state = "closed"
    party = await tx.session.get(Account, case.outreach_party_id)
    assert party is not None and case.outreach_started_at is not None
    hours = int(services.policy.outreach_window.total_seconds() // 3600)
    await services.log.append(tx, room, "case.outreach_closed", SYSTEM, {
        "case": case.id, "party": {"id": party.id, "name": party.name}, "attempts": case.outreach_attempts,
        "started_at": isoformat(case.outreach_started_at),
        "notice": f"{party.name} did not respond within {hours} hours of outreach; that avenue is closed.",
        "options": list(SILENT_PARTY_OPTIONS),
    }, source="system")


async def relay(services: Services, agent: Account, case_id: str, party: str, body: str, *,
                client_id: str | None = None, source: str = "api") -> StoredEvent:
    """The agent passes on what a party said elsewhere: a message by the agent, marked as relayed."""
    async with services.transaction() as tx:
        cs = await case_seat(tx, case_id, agent)
        repeat = await services.log.find_repeat(tx, cs.seat.room.id, agent.id, client_id)
        if repeat is not None:
            return repeat
        speaker = await room_party(tx, cs.seat.room.id, party)
        return await services.log.append(tx, cs.seat.room, "message.posted", cs.seat.actor, {
            "body": body, "files": [],
            "relayed": {"from": {"id": speaker.id, "name": speaker.name, "role": party}, "case": cs.case.id},
        }, source=source, client_id=client_id)


async def approve(services: Services, lead: Account, case_id: str, what: str, amount: int | None,
                  party: str | None, *, source: str = "api") -> StoredEvent:
    """A lead's second approval, for a credit on a case with more than the policy's amount in
    dispute, or for releasing a party's contact details. The lead need not be in the room."""
    if lead.kind != "lead":
        raise forbidden("lead_only", "A second approval is given by a lead.")
    async with services.transaction() as tx:
        case = await tx.session.get(SupportCase, case_id)
        if case is None:
            raise not_found("case")
        room = await lock_room_of(tx, case)
        if case.status != "open":
            raise conflict("case_ended", f"This case was {case.status}.")
        if case.agent_id == lead.id:
            raise conflict("second_approval_needed", "A second approval comes from someone other than the case's agent.")
        if what == "contact_details":
            if party is None:
                raise ApiError(422, "missing_field", "party is required to approve releasing contact details.")
            await room_party(tx, room.id, party)
        approval = CaseApproval(id=new_id("ap"), case_id=case.id, what=what, approver_id=lead.id, approved_at=tx.now,
                                amount=amount if what == "credit" else None,
                                party_role=party if what == "contact_details" else None)
        tx.session.add(approval)
        await tx.session.flush()
        return await services.log.append(tx, room, "case.approved", Actor(lead.id, lead.name, "support"), {
            "case": case.id, "approval": approval.id, "what": what, "amount": approval.amount,
            "party": approval.party_role, "approver": {"id": lead.id, "name": lead.name, "kind": "lead"},
        }, source=source)


async def _unused_approval(tx: Tx, case: SupportCase, what: str, agent: Account) -> CaseApproval | None:
    approvals = await tx.session.scalars(select(CaseApproval).where(
        CaseApproval.case_id == case.id, CaseApproval.what == what, CaseApproval.used_at.is_(None),
        CaseApproval.approver_id != agent.id).order_by(CaseApproval.approved_at))
    return approvals.first()


async def grant_credit(services: Services, agent: Account, case_id: str, amount: int | None, *,
                       client_id: str | None = None, source: str = "api") -> StoredEvent:
    """Courtesy credit to the client: a ledger entry (platform expense → client credit) with the
    `case.credit_granted` event that explains it. Without an amount, the suggestion is granted."""
    async with services.transaction() as tx:
        cs = await case_seat(tx, case_id, agent)
        case, room = cs.case, cs.seat.room
        repeat = await services.log.find_repeat(tx, room.id, agent.id, client_id)
        if repeat is not None:
            return repeat
        research = await research_summary(tx, services.policy, room)
        suggested = int(research["courtesy_credit"]["suggested"])
        amount = suggested if amount is None else amount
        if amount <= 0:
            raise invalid("amount", "nothing to credit: give an amount greater than zero")
        approval = None
        if needs_second_approval(services, case):
            approval = await _unused_approval(tx, case, "credit", agent)
            if approval is None:
                raise forbidden("approval_required", f"More than {_money(services.policy.second_approval_over_disputed)} "
                                "is disputed on this case: a lead must approve the credit first.")
            if approval.amount is not None and amount > approval.amount:
                raise conflict("over_approved_amount", f"The lead approved a credit of at most {approval.amount}.")
            approval.used_at = tx.now
        case.credits_granted += 1
        client = await room_party(tx, room.id, "client")
        entry = ledger.entry(room, f"{case.id}:credit:{case.credits_granted}", ledger.CREDIT,
                             ledger.credit_postings(amount), memo=f"courtesy credit, case {case.id}")
        return await services.log.append(tx, room, "case.credit_granted", cs.seat.actor, {
            "case": case.id, "amount": amount, "currency": room.currency, "suggested": suggested,
            "to": {"id": client.id, "name": client.name, "role": "client"},
            "approval": approval.id if approval else None,
        }, source=source, client_id=client_id, also=[entry])


async def release_contact_details(services: Services, agent: Account, case_id: str, party: str, *,
                                  source: str = "api") -> StoredEvent:
    """A party's contact details, posted in the room — only with a lead's approval for that party."""
    async with services.transaction() as tx:
        cs = await case_seat(tx, case_id, agent)
        case, room = cs.case, cs.seat.room
        approval = await _unused_approval(tx, case, "contact_details", agent)
        if approval is None or approval.party_role != party:
            raise forbidden("approval_required", "Releasing a party's contact details needs a lead's approval.")
        approval.used_at = tx.now
        target = await room_party(tx, room.id, party)
        return await services.log.append(tx, room, "case.contact_released", cs.seat.actor, {
            "case": case.id, "party": {"id": target.id, "name": target.name, "role": party},
            "email": target.email, "approval": approval.id,
        }, source=source)


async def end_case(services: Services, agent: Account, case_id: str, status: str, outcome: str, *,
                   source: str = "api") -> StoredEvent:
    """The case ends resolved or closed, with its outcome in the room's record."""
    assert status in ("resolved", "closed")
    async with services.transaction() as tx:
        cs = await case_seat(tx, case_id, agent)
        case = cs.case
        case.status, case.outcome, case.ended_at = status, outcome, tx.now
        await services.timers.cancel(tx, OUTREACH_TIMER, case.id)
        return await services.log.append(tx, cs.seat.room, f"case.{status}", cs.seat.actor, {
            "case": case.id, "outcome": outcome, "credits_granted": case.credits_granted,
        }, source=source)


def _money(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


async def case_view(tx: Tx, services: Services, case: SupportCase, *, fresh_research: bool = True) -> dict[str, Any]:
    room = await tx.session.get(Room, case.room_id)
    assert room is not None
    approvals = (await tx.session.scalars(select(CaseApproval).where(CaseApproval.case_id == case.id)
                                          .order_by(CaseApproval.approved_at))).all()
    window = services.policy.outreach_window
    return {
        "id": case.id, "room": case.room_id, "status": case.status, "agent": case.agent_id,
        "complaint": case.complaint, "wants": case.wants, "disputed_amount": case.disputed_amount,
        "currency": room.currency, "opened_at": isoformat(case.opened_at),
        "second_approval_required": needs_second_approval(services, case),
        "outreach": {"party": case.outreach_party_id, "state": case.outreach_state, "attempts": case.outreach_attempts,
                     "started_at": isoformat(case.outreach_started_at) if case.outreach_started_at else None,
                     "closes_at": isoformat(case.outreach_started_at + window) if case.outreach_started_at else None},
        "approvals": [{"id": a.id, "what": a.what, "approver": a.approver_id, "amount": a.amount,
                       "party": a.party_role, "approved_at": isoformat(a.approved_at),
                       "used": a.used_at is not None} for a in approvals],
        "credits_granted": case.credits_granted,
        "research": await research_summary(tx, services.policy, room) if fresh_research else case.research,
        "research_at_open": case.research,
        "outcome": case.outcome, "ended_at": isoformat(case.ended_at) if case.ended_at else None,
    }
