"""What the API shows of feedback: a contract's feedback together (mid and final), and a
person's public work history with a success score that only end-of-job feedback counts toward."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

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


async def _feedback_rows(tx: Tx, *conditions: Any) -> list[dict[str, Any]]:
    rows = (await tx.session.scalars(select(Feedback).where(*conditions).order_by(Feedback.given_at, Feedback.event_seq))).all()
    views = []
    for row in rows:
        author, subject = await tx.session.get(Account, row.author_id), await tx.session.get(Account, row.subject_id)
        assert author is not None and subject is not None
        views.append(feedback_view(row, author, subject))
    return views


async def room_feedback(tx: Tx, room_id: str) -> list[dict[str, Any]]:
    return await _feedback_rows(tx, Feedback.room_id == room_id)


async def request_views(tx: Tx, room_id: str) -> list[dict[str, Any]]:
    rows = await tx.session.scalars(select(FeedbackRequest).where(FeedbackRequest.room_id == room_id)
                                    .order_by(FeedbackRequest.requested_at))
    return [{"id": r.id, "status": r.status, "requested_at": isoformat(r.requested_at),
             "expires_at": isoformat(r.expires_at), "feedback": r.feedback_id} for r in rows]


def success_score(received: list[dict[str, Any]]) -> dict[str, Any]:
    """From end-of-job feedback only; mid-contract feedback never counts."""
    finals = [f["rating"] for f in received if f["kind"] == FINAL]
    if not finals:
        return {"based_on": 0, "average_rating": None, "satisfied_percent": None}
    satisfied = sum(1 for rating in finals if rating >= SATISFIED_RATING)
    return {"based_on": len(finals), "average_rating": round(sum(finals) / len(finals), 2),
            "satisfied_percent": round(100 * satisfied / len(finals))}


async def work_history(tx: Tx, account: Account) -> dict[str, Any]:
    """Every contract the account worked on or hired for (awarded, so never a bare proposal), with
    the feedback they received under it. An invite-only job whose client chose to hide its details
    shows no title."""
    rows = (await tx.session.execute(
        select(Room, Member.role).join(Member, Member.room_id == Room.id)
        .where(Member.account_id == account.id, Member.role.in_(("client", "freelancer")),
               Room.started_at.is_not(None))
        .order_by(Room.started_at.desc(), Room.id))).all()
    contracts, received_all = [], []
    for room, role in rows:
        everything = await _feedback_rows(tx, Feedback.room_id == room.id)
        received = [f for f in everything if f["subject"]["id"] == account.id]
        hidden = room.invite_only and any(f["hide_job_details"] and f["author"]["role"] == "client" for f in everything)
        contracts.append({
            "room": room.id, "title": None if hidden else room.title, "job_details_hidden": hidden,
            "role": role, "kind": room.kind, "status": room.status,
            "started_at": isoformat(room.started_at) if room.started_at else None,
            "completed_at": isoformat(room.completed_at) if room.completed_at else None,
            "feedback": [dict(f, mid_contract=f["kind"] != FINAL) for f in received],
        })
        received_all += received
    return {"account": {"id": account.id, "name": account.name}, "contracts": contracts,
            "success_score": success_score(received_all)}
