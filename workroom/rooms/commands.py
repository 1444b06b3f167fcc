"""What people do in a room. Every entry point (HTTP, WebSocket, inbound email, CLI demo) calls
these same functions, so a rule is written once. Each runs in one transaction: validate against
the room's state, append to the log, commit; the events are published after the commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.exc import IntegrityError

from workroom.accounts import Account, account_for_email
from workroom.errors import ApiError, conflict, forbidden, invalid, not_found
from workroom.ids import new_id
from workroom.rooms.access import membership, require_staff, seat
from workroom.rooms.log import SYSTEM, Actor, StoredEvent, lock_room
from workroom.rooms.models import (
    ARCHIVABLE_STATUSES, Archive, Event, Meeting, Member, ReadMarker, Room, RoomFile,
)
from workroom.billing import milestones
from workroom.billing.models import Milestone
from workroom.services import Services, Tx

GUEST_EXPIRY_TIMER = "member.guest_expiry"


@dataclass(frozen=True)
class NewParty:
    email: str
    name: str


@dataclass(frozen=True)
class NewMilestone:
    title: str
    amount: int
    due_date: Any  # date | None


@dataclass(frozen=True)
class NewRoom:
    title: str
    kind: str
    currency: str
    client: NewParty
    freelancer: NewParty
    job_ref: str | None = None
    status: str = "working"
    invite_only: bool = False
    hourly_rate: int | None = None
    weekly_limit_hours: int | None = None
    milestones: tuple[NewMilestone, ...] = ()


async def create_room(services: Services, creator: Account, spec: NewRoom, *, source: str = "api") -> Room:
    if spec.client.email.lower() == spec.freelancer.email.lower():
        raise invalid("freelancer.email", "the freelancer must be a different person from the client")
    async with services.transaction() as tx:
        room = Room(
            id=new_id("r"), title=spec.title, job_ref=spec.job_ref, kind=spec.kind, currency=spec.currency,
            status=spec.status, invite_only=spec.invite_only, hourly_rate=spec.hourly_rate,
            weekly_limit_hours=spec.weekly_limit_hours, created_at=tx.now,
            started_at=tx.now if spec.status == "working" else None,
        )
        tx.session.add(room)
        await tx.session.flush()
        members = []
        for role, party in (("client", spec.client), ("freelancer", spec.freelancer)):
            account = await account_for_email(tx.session, party.email, party.name, tx.now)
            tx.session.add(Member(room_id=room.id, account_id=account.id, role=role, added_at=tx.now))
            members.append({"id": account.id, "name": account.name, "role": role})
        milestones = []
        for position, spec_m in enumerate(spec.milestones, start=1):
            milestone = Milestone(id=new_id("m"), room_id=room.id, position=position, title=spec_m.title,
                                  amount=spec_m.amount, due_date=spec_m.due_date)
            tx.session.add(milestone)
            milestones.append(milestone.public())
        await tx.session.flush()
        actor = Actor(id=creator.id, name=creator.name, role="system") if creator.kind == "service" else SYSTEM
        await services.log.append(tx, room, "room.created", actor, {
            "title": room.title, "kind": room.kind, "currency": room.currency, "status": room.status,
            "job_ref": room.job_ref, "invite_only": room.invite_only, "hourly_rate": room.hourly_rate,
            "weekly_limit_hours": room.weekly_limit_hours, "members": members, "milestones": milestones,
        }, source=source)
    return room


async def add_member(services: Services, account: Account, room_id: str, email: str, name: str, role: str,
                     expires_at: datetime | None, *, source: str = "api") -> StoredEvent:
    async with services.transaction() as tx:
        the_seat = await seat(tx, room_id, account, lock=True)
        the_seat.require(("client",), "add team members and guests")
        if role == "guest" and expires_at is None:
            raise ApiError(422, "missing_field", "expires_at is required for a guest: guest access is temporary.")
        if expires_at is not None and expires_at <= tx.now:
            raise invalid("expires_at", "must be in the future")
        if role == "team" and expires_at is not None:
            raise invalid("expires_at", "only guests have an expiry")
        new = await account_for_email(tx.session, email, name, tx.now)
        existing = await membership(tx, room_id, new.id)
        if existing is not None and existing.active_at(tx.now):
            raise conflict("already_member", f"{new.email} is already in this room.")
        if existing is None:
            existing = Member(room_id=room_id, account_id=new.id, role=role, added_at=tx.now)
            tx.session.add(existing)
        existing.role, existing.expires_at, existing.removed_at, existing.added_at = role, expires_at, None, tx.now
        await tx.session.flush()
        if expires_at is not None:
            await services.timers.schedule(tx, GUEST_EXPIRY_TIMER, f"{room_id}:{new.id}", expires_at,
                                           room_id=room_id, payload={"account": new.id})
        data = {"member": {"id": new.id, "name": new.name, "role": role},
                "expires_at": expires_at.isoformat().replace("+00:00", "Z") if expires_at else None}
        return await services.log.append(tx, the_seat.room, "member.added", the_seat.actor, data, source=source)


async def remove_member(services: Services, account: Account, room_id: str, target_id: str, *,
                        source: str = "api") -> StoredEvent:
    async with services.transaction() as tx:
        the_seat = await seat(tx, room_id, account, lock=True)
        target = await membership(tx, room_id, target_id)
        if target is None or target.removed_at is not None:
            raise not_found("member")
        leaving_self = target_id == account.id
        if not leaving_self:
            the_seat.require(("client",), "remove members")
        if target.role in ("client", "freelancer"):
            raise conflict("party_cannot_leave", "The client and the freelancer stay in the room for the record.")
        target.removed_at = tx.now
        await services.timers.cancel(tx, GUEST_EXPIRY_TIMER, f"{room_id}:{target_id}")
        removed = await tx.session.get(Account, target_id)
        assert removed is not None
        return await services.log.append(tx, the_seat.room, "member.removed", the_seat.actor, {
            "member": {"id": removed.id, "name": removed.name, "role": target.role}}, source=source)


async def guest_expired(tx: Tx, services: Services, room_id: str, account_id: str) -> None:
    """The guest's expiry timer: the room shows that their access ended."""
    member = await membership(tx, room_id, account_id)
    if member is None or not member.expired_at(tx.now):
        return  # removed, or access extended since the timer was set
    room = await lock_room(tx, room_id)
    account = await tx.session.get(Account, account_id)
    assert account is not None
    await services.log.append(tx, room, "member.access_ended", SYSTEM, {
        "member": {"id": account.id, "name": account.name, "role": member.role}}, source="system")


async def set_email_notifications(services: Services, account: Account, room_id: str, on: bool) -> Member:
    async with services.transaction() as tx:
        the_seat = await seat(tx, room_id, account)
        the_seat.member.email_notifications = on
        return the_seat.member


async def post_message(services: Services, account: Account, room_id: str, body: str, *,
                       files: list[str] | None = None, client_id: str | None = None,
                       source: str = "web") -> StoredEvent:
    body = body.strip()
    if not body and not files:
        raise ApiError(422, "empty_message", "A message needs a body or at least one file.")
    if len(body) > services.settings.max_message_chars:
        raise ApiError(413, "message_too_long",
                       f"A message may have at most {services.settings.max_message_chars} characters.")
    try:
        async with services.transaction() as tx:
            the_seat = await seat(tx, room_id, account, lock=True)
            attached = []
            for file_id in files or []:
                row = await tx.session.get(RoomFile, file_id)
                if row is None or row.room_id != room_id:
                    raise ApiError(422, "unknown_file", f"File {file_id} was not uploaded to this room.")
                attached.append(row.public())
            return await services.log.append(tx, the_seat.room, "message.posted", the_seat.actor,
                                             {"body": body, "files": attached}, source=source, client_id=client_id)
    except IntegrityError:
        # Messages are the most frequent write, and a repeat is rare: rather than look for an
        # earlier request with this `client_id` in every transaction (a round trip), the event's
        # unique (room, author, client_id) turns a repeat away, which rolls the transaction back,
        # and the repeat is answered from a second one.
        if not client_id:
            raise
        async with services.transaction() as tx:
            await seat(tx, room_id, account)
            repeat = await services.log.find_repeat(tx, room_id, account.id, client_id)
        if repeat is None:
            raise
        return repeat


async def submit_status_report(services: Services, account: Account, room_id: str, summary: str,
                               reports: list[tuple[str, int, bool]], *, client_id: str | None = None,
                               source: str = "web") -> StoredEvent:
    """`reports`: (milestone id, percent complete, add to billing) per milestone."""
    async with services.transaction() as tx:
        the_seat = await seat(tx, room_id, account, lock=True)
        the_seat.require(("freelancer",), "file status reports")
        repeat = await services.log.find_repeat(tx, room_id, account.id, client_id)
        if repeat is not None:
            return repeat
        lines: list[dict[str, Any]] = []
        seen: set[str] = set()
        for milestone_id, percent, add_to_billing in reports:
            milestone = await tx.session.get(Milestone, milestone_id)
            if milestone is None or milestone.room_id != room_id:
                raise ApiError(422, "unknown_milestone", f"Milestone {milestone_id} is not in this room's terms.")
            if milestone_id in seen:
                raise invalid("milestones", f"{milestone_id} is listed twice")
            if add_to_billing and percent != 100:
                raise invalid("milestones", "add_to_billing needs the milestone marked 100% complete")
            seen.add(milestone_id)
            milestone.percent_complete = percent
            lines.append({"id": milestone.id, "title": milestone.title, "percent_complete": percent,
                          "amount": milestone.amount, "add_to_billing": add_to_billing})
        billing = [line for line in lines if line["add_to_billing"]]
        data = {"summary": summary, "milestones": lines,
                "billing": {"items": [{"milestone": b["id"], "amount": b["amount"]} for b in billing],
                            "total": sum(int(b["amount"]) for b in billing), "currency": the_seat.room.currency}}
        report = await services.log.append(tx, the_seat.room, "status_report.submitted", the_seat.actor, data,
                                           source=source, client_id=client_id)
        # "Add to billing" on a milestone marked 100% complete requests its release, with a
        # pro-forma invoice, in this same transaction (a milestone that cannot be released fails the report).
        for line in billing:
            milestone = await tx.session.get(Milestone, line["id"])
            assert milestone is not None
            await milestones.request_release_in(tx, services, the_seat, milestone, source=source, via="status_report")
        return report


async def invite_to_meeting(services: Services, account: Account, room_id: str, invitee_id: str,
                            proposed_at: datetime | None, note: str | None, *, source: str = "web") -> StoredEvent:
    async with services.transaction() as tx:
        the_seat = await seat(tx, room_id, account, lock=True)
        invitee = await membership(tx, room_id, invitee_id)
        if invitee is None or not invitee.active_at(tx.now):
            raise ApiError(422, "unknown_member", "The invitee must be a member of this room.")
        if invitee_id == account.id:
            raise invalid("invitee", "you cannot invite yourself")
        invitee_account = await tx.session.get(Account, invitee_id)
        assert invitee_account is not None
        meeting = Meeting(id=new_id("mt"), room_id=room_id, inviter_id=account.id, invitee_id=invitee_id,
                          proposed_at=proposed_at, note=note, status="invited")
        tx.session.add(meeting)
        return await services.log.append(tx, the_seat.room, "meeting.invited", the_seat.actor, {
            "meeting": meeting.id, "invitee": {"id": invitee_account.id, "name": invitee_account.name},
            "proposed_at": proposed_at.isoformat().replace("+00:00", "Z") if proposed_at else None,
            "note": note}, source=source)


async def respond_to_meeting(services: Services, account: Account, room_id: str, meeting_id: str, accept: bool,
                             *, source: str = "web") -> StoredEvent:
    async with services.transaction() as tx:
        the_seat = await seat(tx, room_id, account, lock=True)
        meeting = await tx.session.get(Meeting, meeting_id)
        if meeting is None or meeting.room_id != room_id:
            raise not_found("meeting")
        if meeting.invitee_id != account.id:
            raise forbidden("not_invitee", "Only the invitee can answer this invitation.")
        if meeting.status != "invited":
            raise conflict("already_answered", f"This invitation was already {meeting.status}.")
        meeting.status = "accepted" if accept else "declined"
        return await services.log.append(tx, the_seat.room, f"meeting.{meeting.status}", the_seat.actor,
                                         {"meeting": meeting.id}, source=source)


async def mark_read(services: Services, account: Account, room_id: str, seq: int) -> tuple[int, int]:
    """Move the reader's marker forward (never back); returns the marker and what is still unread."""
    async with services.transaction() as tx:
        the_seat = await seat(tx, room_id, account)
        if seq > the_seat.room.head_seq:
            raise invalid("seq", f"the room's newest event is {the_seat.room.head_seq}")
        marker = await tx.session.get(ReadMarker, (room_id, account.id))
        if marker is None:
            marker = ReadMarker(room_id=room_id, account_id=account.id, seq=0)
            tx.session.add(marker)
        marker.seq = max(marker.seq, seq)
        await tx.session.flush()  # the count below reads the moved marker
        unread = (await unread_counts(tx, account.id, [room_id])).get(room_id, 0)
        return marker.seq, unread


async def set_archived(services: Services, account: Account, room_ids: list[str], archived: bool) -> list[str]:
    """Archive or unarchive several rooms for this user alone: all of them, or none (a 404 or 409
    names the first room that cannot be)."""
    async with services.transaction() as tx:
        for room_id in room_ids:
            the_seat = await seat(tx, room_id, account)
            current = await tx.session.get(Archive, (room_id, account.id))
            if archived:
                if the_seat.room.status not in ARCHIVABLE_STATUSES:
                    raise conflict("not_archivable", f"Room {room_id} is {the_seat.room.status}; only jobs that are "
                                   f"{', '.join(ARCHIVABLE_STATUSES)} can be archived.")
                if current is None:
                    tx.session.add(Archive(room_id=room_id, account_id=account.id, archived_at=tx.now))
            elif current is not None:
                await tx.session.delete(current)
    return room_ids


async def support_join(services: Services, agent: Account, room_id: str, *, source: str = "web") -> StoredEvent:
    require_staff(agent)
    async with services.transaction() as tx:
        room = await lock_room(tx, room_id)
        member = await membership(tx, room_id, agent.id)
        if member is not None and member.role != "support":
            raise conflict("already_member", "You are already in this room in another role.")
        if member is not None and member.removed_at is None:
            raise conflict("already_joined", "You have already joined this room.")
        if member is None:
            member = Member(room_id=room_id, account_id=agent.id, role="support", added_at=tx.now)
            tx.session.add(member)
        member.removed_at, member.added_at = None, tx.now
        await tx.session.flush()
        return await services.log.append(tx, room, "support.joined", Actor(agent.id, agent.name, "support"),
                                         {"agent": {"id": agent.id, "name": agent.name}}, source=source)


UNREAD = (select(Event.room_id, func.count())
          .select_from(Event)
          .outerjoin(ReadMarker, and_(ReadMarker.room_id == Event.room_id,
                                      ReadMarker.account_id == bindparam("account_id")))
          .where(Event.room_id.in_(bindparam("room_ids", expanding=True)), Event.actor_id != bindparam("account_id"),
                 Event.seq > func.coalesce(ReadMarker.seq, 0))
          .group_by(Event.room_id))


async def unread_counts(tx: Tx, account_id: str, room_ids: list[str]) -> dict[str, int]:
    """Events by others after the reader's marker, per room (every read op asks)."""
    if not room_ids:
        return {}
    rows = await tx.session.execute(UNREAD, {"account_id": account_id, "room_ids": room_ids})
    return {room_id: count for room_id, count in rows.all()}
