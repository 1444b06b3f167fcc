"""What the API shows of feedback: a contract's feedback together (mid and final), and a
person's public work history with a success score that only end-of-job feedback counts toward."""

from __future__ import annotations

from typing import Any

from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.orm import aliased

from workroom.accounts import Account
from workroom.clock import isoformat
from workroom.feedback.models import FINAL, Feedback, FeedbackRequest
from workroom.rooms.models import Member, Room
from workroom.services import Tx

SATISFIED_RATING = 4  # a 4 or 5 counts as a satisfied client in the success score


def feedback_view(feedback: Feedback, author: Account, subject: Account) -> dict[str, Any]:
    return {
        "id": feedback.id, "kind": feedback.kind, "rating": feedback.rating, "comment": feedback.comment,
        "author": {"id": author.id, "name": author.name, "role": feedback.author_role},
        "subject": {"id": subject.id, "name": subject.name},
        "given_at": isoformat(feedback.given_at), "event_seq": feedback.event_seq,
        "hide_job_details": feedback.hide_job_details,
        "counts_toward_success_score": feedback.kind == FINAL,
    }


_author, _subject = aliased(Account), aliased(Account)


async def _feedback_rows(tx: Tx, *conditions: Any) -> list[tuple[str, dict[str, Any]]]:
    """The feedback that meets `conditions`, oldest first, as (room, view) with its author and
    subject: one query."""
    rows = await tx.session.execute(
        select(Feedback, _author, _subject)
        .join(_author, _author.id == Feedback.author_id).join(_subject, _subject.id == Feedback.subject_id)
        .where(*conditions).order_by(Feedback.given_at, Feedback.event_seq))
    return [(feedback.room_id, feedback_view(feedback, author, subject)) for feedback, author, subject in rows.all()]


async def room_feedback(tx: Tx, room_id: str) -> list[dict[str, Any]]:
    return [view for _, view in await _feedback_rows(tx, Feedback.room_id == room_id)]


async def request_views(tx: Tx, room_id: str) -> list[dict[str, Any]]:
    rows = await tx.session.scalars(select(FeedbackRequest).where(FeedbackRequest.room_id == room_id)
                                    .order_by(FeedbackRequest.requested_at))
    return [{"id": r.id, "status": r.status, "requested_at": isoformat(r.requested_at),
             "expires_at": isoformat(r.expires_at), "feedback": r.feedback_id} for r in rows]


def success_score(finals: list[int]) -> dict[str, Any]:
    """From the ratings of end-of-job feedback only; mid-contract feedback never counts."""
    if not finals:
        return {"based_on": 0, "average_rating": None, "satisfied_percent": None}
    satisfied = sum(1 for rating in finals if rating >= SATISFIED_RATING)
    return {"based_on": len(finals), "average_rating": round(sum(finals) / len(finals), 2),
            "satisfied_percent": round(100 * satisfied / len(finals))}


def history_cursor(started_at: datetime, room_id: str) -> str:
    return f"{isoformat(started_at)}|{room_id}"


async def work_history(tx: Tx, account: Account, *, limit: int,
                       after: tuple[datetime, str] | None = None) -> dict[str, Any]:
    """The contracts the account worked on or hired for (awarded, so never a bare proposal), newest
    first, `limit` at a time from after the cursor `after` (`next` names the following page), with the
    feedback they received under each. An invite-only job whose client chose to hide its details
    shows no title. The success score counts every contract's end-of-job feedback, not one page's."""
    contract = (Member.account_id == account.id, Member.role.in_(("client", "freelancer")),
                Room.started_at.is_not(None))
    contracts_of = select(Room.id).join(Member, Member.room_id == Room.id).where(*contract)
    page = (select(Room, Member.role).join(Member, Member.room_id == Room.id).where(*contract)
            .order_by(Room.started_at.desc(), Room.id.desc()).limit(limit + 1))
    if after is not None:
        page = page.where(tuple_(Room.started_at, Room.id) < tuple_(*after))
    rows = (await tx.session.execute(page)).all()
    more, rows = len(rows) > limit, rows[:limit]
    by_room: dict[str, list[dict[str, Any]]] = {room.id: [] for room, _ in rows}
    for room_id, view in await _feedback_rows(tx, Feedback.room_id.in_(list(by_room))):
        by_room[room_id].append(view)
    contracts = []
    for room, role in rows:
        everything = by_room[room.id]
        hidden = room.invite_only and any(f["hide_job_details"] and f["author"]["role"] == "client" for f in everything)
        contracts.append({
            "room": room.id, "title": None if hidden else room.title, "job_details_hidden": hidden,
            "role": role, "kind": room.kind, "status": room.status,
            "started_at": isoformat(room.started_at) if room.started_at else None,
            "completed_at": isoformat(room.completed_at) if room.completed_at else None,
            "feedback": [dict(f, mid_contract=f["kind"] != FINAL) for f in everything
                         if f["subject"]["id"] == account.id],
        })
    finals = (await tx.session.scalars(select(Feedback.rating).where(
        Feedback.subject_id == account.id, Feedback.kind == FINAL, Feedback.room_id.in_(contracts_of)))).all()
    last = rows[-1][0] if rows else None
    return {"account": {"id": account.id, "name": account.name}, "contracts": contracts,
            "next": history_cursor(last.started_at, last.id) if more and last and last.started_at else None,
            "success_score": success_score(list(finals))}
