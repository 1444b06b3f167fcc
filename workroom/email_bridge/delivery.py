"""The worker's outbox job: claim due rows, batch them per member and room, send, record.

A claim pushes the rows' next_attempt_at forward (a lease) and commits before any network
I/O, so a worker that dies mid-send leaves rows that are retried when the lease runs out.
On PostgreSQL the claim uses `FOR UPDATE SKIP LOCKED`, so several workers share the outbox.
A relay that is down gets the same mail again later with exponential backoff; nothing is
dropped unless the relay refuses it for good (5xx) or it has failed for MAX_AGE.
"""
from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING

from sqlalchemy import select

from workroom.accounts import Account
from workroom.db.database import skip_locked
from workroom.metrics import MAIL_SENT
from workroom.rooms.models import Event, Room

from . import tokens
from .compose import MailIdentity, event_mail, notice_mail
from .models import OutboxMail
from .transports import MailTransport, PermanentFailure

if TYPE_CHECKING:
    from workroom.services import Services, Tx

log = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=5)
MAX_AGE = timedelta(days=3)
MAX_BACKOFF_SECONDS = 3600
CLAIM_LIMIT = 200


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(MAX_BACKOFF_SECONDS, 10 * 2 ** min(attempts, 12)))


@dataclass
class ClaimedMail:
    row_ids: list[int]
    message: EmailMessage
    recipient: str


class OutboxDelivery:
    def __init__(self, transport: MailTransport) -> None:
        self.transport = transport

    async def run(self, services: "Services") -> int:
        """Deliver everything that is due now; returns how many mails went out."""
        sent = 0
        while True:
            claimed = await self._claim(services)
            if not claimed:
                return sent
            for mail in claimed:
                sent += await self._send(services, mail)

    async def _claim(self, services: "Services") -> list[ClaimedMail]:
        identity = MailIdentity.of(services.settings)
        async with services.transaction() as tx:
            query = skip_locked(tx.session, (
                select(OutboxMail)
                # "sending" rows whose lease ran out belong to a worker that died mid-send.
                .where(OutboxMail.status.in_(("pending", "sending")), OutboxMail.next_attempt_at <= tx.now)
                .order_by(OutboxMail.id)
                .limit(CLAIM_LIMIT)
            ))
            due = list(await tx.session.scalars(query))
            if not due:
                return []
            groups: dict[tuple[str, str], list[OutboxMail]] = defaultdict(list)
            claimed: list[ClaimedMail] = []
            for row in due:
                if row.kind == "event" and row.room_id and row.account_id:
                    groups[(row.room_id, row.account_id)].append(row)
                else:
                    claimed.append(ClaimedMail([row.id], notice_mail(
                        identity, to=row.to_address, subject=row.subject or "", text=row.body_text or "",
                        in_reply_to=row.in_reply_to, now=tx.now), row.to_address))
                    self._lease(row, tx.now)
            for (room_id, account_id), rows in groups.items():
                # Rows for this member and room still inside their batch window join this mail.
                later = skip_locked(tx.session, select(OutboxMail).where(
                    OutboxMail.status == "pending", OutboxMail.kind == "event", OutboxMail.room_id == room_id,
                    OutboxMail.account_id == account_id, OutboxMail.next_attempt_at > tx.now,
                    OutboxMail.attempts == 0,
                ))
                rows = sorted({row.id: row for row in [*rows, *await tx.session.scalars(later)]}.values(),
                              key=lambda row: row.event_seq or 0)
                message = await self._compose(services, tx, identity, room_id, account_id, rows)
                for row in rows:
                    self._lease(row, tx.now)
                if message is None:
                    for row in rows:
                        row.status, row.last_error = "failed", "room, member or event no longer exists"
                    continue
                claimed.append(ClaimedMail([row.id for row in rows], message, rows[0].to_address))
            return claimed

    @staticmethod
    def _lease(row: OutboxMail, now: datetime) -> None:
        row.status, row.next_attempt_at = "sending", now + CLAIM_LEASE

    async def _compose(self, services: "Services", tx: "Tx", identity: MailIdentity, room_id: str,
                       account_id: str, rows: list[OutboxMail]) -> EmailMessage | None:
        session = tx.session
        room = await session.get(Room, room_id)
        account = await session.get(Account, account_id)
        if room is None or account is None:
            return None
        seqs = [row.event_seq for row in rows if row.event_seq is not None]
        events = list(await session.scalars(
            select(Event).where(Event.room_id == room_id, Event.seq.in_(seqs)).order_by(Event.seq)
        ))
        if not events:
            return None
        token = await tokens.member_token(tx, services.settings.secret, room_id, account_id)
        tag = await tokens.room_tag(tx, room_id)
        return event_mail(
            identity, room_id=room.id, room_title=room.title, tag=tag, token=token,
            recipient=(account.id, account.name, account.email),
            envelopes=[json.loads(event.envelope) for event in events], now=tx.now,
        )

    async def _send(self, services: "Services", mail: ClaimedMail) -> int:
        identity = MailIdentity.of(services.settings)
        error: Exception | None = None
        try:
            await self.transport.send(mail.message, identity.bounce_address, [mail.recipient])
        except Exception as exc:  # any failure: the rows stay and are retried, or fail for good on 5xx
            error = exc
        result = "sent" if error is None else "retry"
        async with services.transaction() as tx:
            rows = list(await tx.session.scalars(select(OutboxMail).where(OutboxMail.id.in_(mail.row_ids))))
            for row in rows:
                if error is None:
                    row.status, row.sent_at, row.message_id = "sent", tx.now, str(mail.message["Message-ID"])
                    continue
                row.attempts += 1
                row.last_error = f"{type(error).__name__}: {error}"[:500]
                if isinstance(error, PermanentFailure) or tx.now - row.created_at > MAX_AGE:
                    row.status, result = "failed", "failed"
                    log.warning("mail to %s failed for good: %s", row.to_address, row.last_error)
                else:
                    row.status, row.next_attempt_at = "pending", tx.now + backoff(row.attempts)
        MAIL_SENT.labels(result).inc()
        if error is not None:
            log.info("mail to %s not sent yet (%s); will retry", mail.recipient, error)
            return 0
        return 1
