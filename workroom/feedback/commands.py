"""What the parties do with feedback. One transaction per command, under the room's lock, like
every room command: check the rules, store the row, append the room event."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from workroom.accounts import Account
from workroom.billing.queries import payments
from workroom.clock import isoformat
from workroom.errors import ApiError, conflict, forbidden, invalid, not_found
from workroom.feedback.eligibility import Unmet, final_feedback_unmet, mid_contract_unmet, request_open
from workroom.feedback.models import FINAL, MID_CONTRACT, Feedback, FeedbackRequest, PrivateComment
from workroom.ids import new_id
from workroom.rooms.access import Seat, party, seat
from workroom.rooms.log import SYSTEM, StoredEvent, lock_room
from workroom.rooms.models import Event, Room
from workroom.services import Services, Tx

REQUEST_EXPIRY_TIMER = "feedback.request_expiry"
# The request is open through `expires_at` itself; its expiry notice fires just after.
EXPIRY_NOTICE_DELAY = timedelta(seconds=1)


def not_eligible(unmet: list[Unmet]) -> ApiError:
    first = unmet[0]
    return conflict(first.code, " ".join(u.message for u in unmet))


async def last_client_feedback_at(tx: Tx, room_id: str, client_id: str) -> datetime | None:
    """When the client last gave feedback on this contract (mid or final): the rules count the
    30-day gap from when feedback was last given, not from when it was requested."""
    return await tx.session.scalar(select(func.max(Feedback.given_at))
                                   .where(Feedback.room_id == room_id, Feedback.author_id == client_id))


async def mid_contract_check(tx: Tx, services: Services, room: Room) -> list[Unmet]:
    if room.status != "working":
        return [Unmet("not_working", f"Mid-contract feedback is for a contract in progress; this job is {room.status}.")]
    paid = [p.at for p in await payments(tx, room.id)]
    client = (await party(tx, room.id, "client")).id
    return mid_contract_unmet(services.policy, tx.now, room.started_at, paid,
                              await last_client_feedback_at(tx, room.id, client))


ENDED_STATUSES = ("complete", "cancelled")  # end-of-job feedback; a cancelled job only if a payment was released


async def ended_at(tx: Tx, room: Room) -> datetime | None:
    """When the job ended: marked complete, or cancelled (when the room's log says it was, since
    the room row keeps no such time). None while it has not ended."""
    if room.status == "complete":
        return room.completed_at
    if room.status == "cancelled":
        return await tx.session.scalar(select(Event.at).where(Event.room_id == room.id, Event.type == "job.cancelled")
                                       .order_by(Event.seq.desc()).limit(1))
    return None


async def final_check(tx: Tx, services: Services, room: Room) -> list[Unmet]:
    paid = [p.at for p in await payments(tx, room.id)]
    return final_feedback_unmet(services.policy, tx.now, await ended_at(tx, room), paid)


async def pending_request(tx: Tx, room_id: str) -> FeedbackRequest | None:
    return await tx.session.scalar(select(FeedbackRequest).where(FeedbackRequest.room_id == room_id,
                                                                 FeedbackRequest.status == "pending"))


async def leave_feedback(services: Services, account: Account, room_id: str, rating: int, comment: str,
                         hide_job_details: bool, *, client_id: str | None = None,
                         source: str = "api") -> StoredEvent:
    async with services.transaction() as tx:
        the_seat = await seat(tx, room_id, account, lock=True)
        repeat = await services.log.find_repeat(tx, room_id, account.id, client_id)
        if repeat is not None:
            return repeat
        room = the_seat.room
        if room.status in ENDED_STATUSES:
            kind = FINAL
            the_seat.require(("client", "freelancer"), "leave feedback")
            given = await tx.session.scalar(select(Feedback.id).where(
                Feedback.room_id == room_id, Feedback.author_id == account.id, Feedback.kind == FINAL))
            if given is not None:
                raise conflict("feedback_already_given", "You have already left feedback on this job; "
                               "feedback cannot be changed or removed.")
            unmet = await final_check(tx, services, room)
        elif room.status == "working":
            kind = MID_CONTRACT
            the_seat.require(("client",), "leave mid-contract feedback (the freelancer can request it)")
            unmet = await mid_contract_check(tx, services, room)
        else:
            raise conflict("invalid_status", "Feedback is left on a working job, or on one that was completed or "
                           f"cancelled after a payment; this job is {room.status}.")
        if unmet:
            raise not_eligible(unmet)
        if hide_job_details and not (the_seat.role == "client" and room.invite_only):
            raise invalid("hide_job_details", "only the client of an invite-only job may hide its details")
        subject = (await party(tx, room_id, "freelancer" if the_seat.role == "client" else "client")).id
        return await _store(tx, services, the_seat, kind, subject, rating, comment, hide_job_details,
                            client_id=client_id, source=source)


async def _store(tx: Tx, services: Services, the_seat: Seat, kind: str, subject_id: str, rating: int, comment: str,
                 hide_job_details: bool, *, client_id: str | None, source: str) -> StoredEvent:
    subject = await tx.session.get(Account, subject_id)
    assert subject is not None
    feedback_id = new_id("fb")
    # The client's feedback answers an open request, also when the job was completed meanwhile and
    # it is end-of-job feedback: the freelancer asked for feedback and got it.
    request = await pending_request(tx, the_seat.room.id) if the_seat.role == "client" else None
    event = await services.log.append(tx, the_seat.room, "feedback.left", the_seat.actor, {
        "feedback": feedback_id, "kind": kind, "rating": rating, "comment": comment,
        "subject": {"id": subject.id, "name": subject.name}, "hide_job_details": hide_job_details,
        "request": request.id if request is not None else None,
        "counts_toward_success_score": kind == FINAL,
    }, source=source, client_id=client_id)
    tx.session.add(Feedback(id=feedback_id, room_id=the_seat.room.id, kind=kind, author_id=the_seat.account.id,
                            author_role=the_seat.role, subject_id=subject_id, rating=rating, comment=comment,
                            hide_job_details=hide_job_details, given_at=tx.now, event_seq=event.seq))
    if request is not None:
        request.status, request.feedback_id = "fulfilled", feedback_id
        await services.timers.cancel(tx, REQUEST_EXPIRY_TIMER, request.id)
    await tx.session.flush()
    return event


async def request_feedback(services: Services, account: Account, room_id: str, *, source: str = "api") -> StoredEvent:
    """The freelancer asks the client for mid-contract feedback; the client has 14 days."""
    async with services.transaction() as tx:
        the_seat = await seat(tx, room_id, account, lock=True)
        the_seat.require(("freelancer",), "request mid-contract feedback")
        room = the_seat.room
        open_request = await pending_request(tx, room_id)
        if open_request is not None:
            if request_open(services.policy, tx.now, open_request.requested_at):
                raise conflict("request_pending", f"Your request of {isoformat(open_request.requested_at)} is open "
                               f"until {isoformat(open_request.expires_at)}.")
            await expire_request(tx, services, room, open_request)  # the worker has not caught up yet
        unmet = await mid_contract_check(tx, services, room)
        if unmet:
            raise not_eligible(unmet)
        request = FeedbackRequest(id=new_id("fr"), room_id=room_id, requester_id=account.id, requested_at=tx.now,
                                  expires_at=tx.now + services.policy.feedback_request_expires_after, status="pending")
        tx.session.add(request)
        await tx.session.flush()
        await services.timers.schedule(tx, REQUEST_EXPIRY_TIMER, request.id, request.expires_at + EXPIRY_NOTICE_DELAY,
                                       room_id=room_id)
        return await services.log.append(tx, room, "feedback.requested", the_seat.actor, {
            "request": request.id, "expires_at": isoformat(request.expires_at)}, source=source)


async def expire_request(tx: Tx, services: Services, room: Room, request: FeedbackRequest) -> StoredEvent:
    request.status = "expired"
    await services.timers.cancel(tx, REQUEST_EXPIRY_TIMER, request.id)
    return await services.log.append(tx, room, "feedback.request_expired", SYSTEM, {
        "request": request.id, "requested_at": isoformat(request.requested_at)}, source="system")


async def request_expired(tx: Tx, services: Services, request_id: str) -> None:
    """The timer: a request the client left unanswered expires (a fulfilled one stays as it is)."""
    request = await tx.session.get(FeedbackRequest, request_id)
    if request is None or request.status != "pending" or request_open(services.policy, tx.now, request.requested_at):
        return
    room = await lock_room(tx, request.room_id)
    await expire_request(tx, services, room, request)


async def add_private_comment(services: Services, account: Account, room_id: str, body: str) -> PrivateComment:
    """Stored beside the room, never in its log: the log is shown and mailed to the freelancer."""
    async with services.transaction() as tx:
        the_seat = await seat(tx, room_id, account)
        the_seat.require(("client",), "send private comments about the freelancer")
        comment = PrivateComment(id=new_id("pc"), room_id=room_id, author_id=account.id,
                                 subject_id=(await party(tx, room_id, "freelancer")).id, body=body, created_at=tx.now)
        tx.session.add(comment)
        await tx.session.flush()
        return comment


async def private_comments(services: Services, account: Account, room_id: str) -> list[PrivateComment]:
    """Staff read every private comment of a room; the client reads the ones they wrote."""
    async with services.transaction() as tx:
        query = select(PrivateComment).where(PrivateComment.room_id == room_id).order_by(PrivateComment.created_at)
        if account.is_staff:
            if await tx.session.get(Room, room_id) is None:
                raise not_found()
        else:
            the_seat = await seat(tx, room_id, account)
            if the_seat.role != "client":
                raise forbidden("staff_only", "Private comments are read by staff only.")
            query = query.where(PrivateComment.author_id == account.id)
        return list(await tx.session.scalars(query))
