"""What the API shows of a room: the JSON views, built in one place for every endpoint."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from workroom.accounts import Account
from workroom.billing.models import Milestone
from workroom.clock import isoformat
from workroom.rooms.models import Member, ReadMarker, Room
from workroom.services import Tx


def _time(value: Any) -> str | None:
    return isoformat(value) if value is not None else None


async def member_views(tx: Tx, room_id: str) -> list[dict[str, Any]]:
    rows = await tx.session.execute(
        select(Member, Account).join(Account, Account.id == Member.account_id)
        .where(Member.room_id == room_id, Member.removed_at.is_(None)).order_by(Member.id)
    )
    views = []
    for member, account in rows.all():
        views.append({
            "id": account.id, "name": account.name, "role": member.role,
            "access": "expired" if member.expired_at(tx.now) else "active",
            "expires_at": _time(member.expires_at), "added_at": _time(member.added_at),
        })
    return views


async def milestone_views(tx: Tx, room_id: str) -> list[dict[str, Any]]:
    rows = await tx.session.scalars(select(Milestone).where(Milestone.room_id == room_id).order_by(Milestone.position))
    return [m.public() for m in rows]


def room_summary(room: Room) -> dict[str, Any]:
    return {"id": room.id, "title": room.title, "status": room.status, "kind": room.kind,
            "currency": room.currency, "job_ref": room.job_ref, "head": room.head_seq,
            "last_event_at": _time(room.last_event_at)}


async def room_view(tx: Tx, room: Room, viewer: Member | None) -> dict[str, Any]:
    view = room_summary(room)
    view.update({
        "invite_only": room.invite_only, "created_at": _time(room.created_at),
        "started_at": _time(room.started_at), "completed_at": _time(room.completed_at),
        "members": await member_views(tx, room.id),
        "terms": {"kind": room.kind, "currency": room.currency, "hourly_rate": room.hourly_rate,
                  "weekly_limit_hours": room.weekly_limit_hours,
                  "milestones": await milestone_views(tx, room.id)},
    })
    if viewer is not None:
        marker = await tx.session.get(ReadMarker, (room.id, viewer.account_id))
        # last_read_seq lets the page draw its "new since you last read" line.
        view["me"] = {"role": viewer.role, "email_notifications": viewer.email_notifications,
                      "last_read_seq": marker.seq if marker is not None else 0}
    return view
