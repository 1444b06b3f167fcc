"""Received mail, durable before the SMTP server says 250; claimed for processing afterwards.

Processing is at-least-once: a claim is a lease (status "processing" until next_attempt_at),
so mail whose processor died is picked up again; posting is idempotent by Message-ID.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from workroom.db.database import skip_locked

from .models import ReceivedMail

if TYPE_CHECKING:
    from workroom.services import Services

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 20


@dataclass(frozen=True)
class Claimed:
    id: int
    raw: bytes
    mail_from: str
    rcpt_to: list[str]
    attempts: int


async def claim_batch(services: "Services", limit: int = 25) -> list[Claimed]:
    """Lease up to `limit` due mails, oldest first, in one transaction."""
    async with services.transaction() as tx:
        query = skip_locked(tx.session, (
            select(ReceivedMail)
            .where(ReceivedMail.status.in_(("new", "processing")), ReceivedMail.next_attempt_at <= tx.now)
            .order_by(ReceivedMail.id)
            .limit(limit)
        ))
        claimed = []
        for row in await tx.session.scalars(query):
            row.attempts += 1
            if row.attempts > MAX_ATTEMPTS:  # poison mail: stop, keep it for a person to look at
                row.status, row.outcome, row.detail, row.processed_at = "done", "error", "gave up after retries", tx.now
                continue
            row.status, row.next_attempt_at = "processing", tx.now + LEASE
            claimed.append(Claimed(row.id, bytes(row.raw), row.mail_from, [r for r in row.rcpt_to.split("\n") if r],
                                   row.attempts))
        return claimed


async def retry_later(services: "Services", mail_id: int, error: str) -> None:
    async with services.transaction() as tx:
        row = await tx.session.get(ReceivedMail, mail_id)
        if row is not None and row.status != "done":
            row.detail = error[:500]
            row.next_attempt_at = tx.now + timedelta(seconds=min(600, 5 * 2 ** min(row.attempts, 7)))
