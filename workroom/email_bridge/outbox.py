"""Outbox rows, written in the same transaction as the event (a RoomLog hook) or the notice."""
from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import insert, select

from workroom.accounts import Account
from workroom.rooms.models import Member, Room

from .models import OutboxMail

if TYPE_CHECKING:
    from workroom.rooms.log import StoredEvent
    from workroom.services import Tx


async def queue_event_mail(tx: "Tx", room: Room, event: "StoredEvent", batch_window: timedelta) -> int:
    """One row per member who has mail on and may read the room now, never for the author."""
    rows = await tx.session.execute(
        select(Member, Account).join(Account, Account.id == Member.account_id).where(Member.room_id == room.id)
    )
    outbox = [
        {"kind": "event", "room_id": room.id, "event_seq": event.seq, "account_id": account.id,
         "to_address": account.email, "created_at": tx.now, "status": "pending",
         "next_attempt_at": tx.now + batch_window, "attempts": 0}
        for member, account in rows.all()
        if account.id != event.actor_id and account.kind != "service"
        and member.email_notifications and member.active_at(tx.now)
    ]
    if outbox:
        await tx.session.execute(insert(OutboxMail), outbox)  # one executemany, not a flush per row
    return len(outbox)


def queue_notice(tx: "Tx", *, to: str, subject: str, text: str, in_reply_to: str | None,
                 room_id: str | None = None, account_id: str | None = None) -> None:
    tx.session.add(OutboxMail(
        kind="notice", room_id=room_id, account_id=account_id, to_address=to, subject=subject[:500],
        body_text=text, in_reply_to=(in_reply_to or None) and in_reply_to[:500], created_at=tx.now,
        status="pending", next_attempt_at=tx.now, attempts=0,
    ))
