"""Outbox rows, written with the event (a RoomLog write, in the event's own round trip on
PostgreSQL) or in the same transaction as the notice."""
from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Integer, String, bindparam, insert, literal, or_, select

from workroom.accounts import Account
from workroom.db.base import UTCDateTime
from workroom.rooms.log import EventWrite
from workroom.rooms.models import Member

from .models import OutboxMail

if TYPE_CHECKING:
    from sqlalchemy import Insert

    from workroom.services import Tx


def _queue_event_mail_statement() -> "Insert":
    """INSERT … SELECT with the event row's parameters: the database picks the recipients and
    writes their rows, so the room's members never travel to Python on the write path."""
    members, accounts, outbox = Member.__table__, Account.__table__, OutboxMail.__table__
    now = bindparam("event_at", type_=UTCDateTime())
    recipients = (
        select(literal("event", String()), members.c.room_id, bindparam("event_seq", type_=Integer()), accounts.c.id,
               accounts.c.email, now, literal("pending", String()), bindparam("send_at", type_=UTCDateTime()),
               literal(0, Integer()))
        .join_from(members, accounts, accounts.c.id == members.c.account_id)
        .where(members.c.room_id == bindparam("event_room_id"), accounts.c.id != bindparam("event_actor_id"),
               accounts.c.kind != "service", members.c.email_notifications.is_(True),
               members.c.removed_at.is_(None), or_(members.c.expires_at.is_(None), members.c.expires_at > now))
        .order_by(members.c.id))
    return insert(outbox).from_select(
        ["kind", "room_id", "event_seq", "account_id", "to_address", "created_at", "status", "next_attempt_at",
         "attempts"], recipients)


QUEUE_EVENT_MAIL = _queue_event_mail_statement()


def queue_event_mail(batch_window: timedelta) -> EventWrite:
    """The outbox rows every event queues: one per member who has mail on and may read the room now
    (not removed, guest access not expired), never for the author or the marketplace's service
    account; sent once `batch_window` has passed, so a burst of events goes out as one mail."""
    return EventWrite(QUEUE_EVENT_MAIL, lambda event: {"send_at": event["at"] + batch_window})


def queue_notice(tx: "Tx", *, to: str, subject: str, text: str, in_reply_to: str | None,
                 room_id: str | None = None, account_id: str | None = None) -> None:
    tx.session.add(OutboxMail(
        kind="notice", room_id=room_id, account_id=account_id, to_address=to, subject=subject[:500],
        body_text=text, in_reply_to=(in_reply_to or None) and in_reply_to[:500], created_at=tx.now,
        status="pending", next_attempt_at=tx.now, attempts=0,
    ))
