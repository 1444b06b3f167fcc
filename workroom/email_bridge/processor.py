"""Stored mail -> a decision -> the same command the web uses (`post_message`, source "email").

Routing, in order of trust: the token in the RCPT address, a token in To/Cc, the `[WR:tag]`
in the subject, our Message-IDs in In-Reply-To/References. A token names a member, so the From
address must be that member's (else the post is held and the member told). The other routes
name only a room; the member is whoever the From address is, and must be active there.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, bindparam, func, or_, select, update

from workroom.accounts import Account, find_by_email
from workroom.errors import ApiError
from workroom.metrics import MAIL_PROCESSED
from workroom.rooms import commands
from workroom.rooms.access import membership
from workroom.rooms.files import keep_file, received_from_bytes
from workroom.rooms.models import Member, Room

from . import tokens
from .addresses import bare_reply_address, reply_address, subject_tag
from .compose import MailIdentity
from .inbound_mail import InboundMail
from .inbound_store import Claimed, claim_batch, retry_later
from .models import ReceivedMail, ReplyToken
from .outbox import queue_notice
from .parsing import parse_inbound_mail

if TYPE_CHECKING:
    from workroom.services import Services, Tx

log = logging.getLogger(__name__)

BOUNCE_INTERVAL = timedelta(hours=1)  # at most one bounce per sender in this window
BATCH = 32  # mails claimed per transaction
LANES = 4  # mails of a batch processed at once (PostgreSQL)
QUIET_SECONDS = 0.05  # see InboundProcessor.kick_when_quiet
LONGEST_WAIT_SECONDS = 1.0


@dataclass
class Decision:
    outcome: str  # post | hold | refuse | ignore | bounce | duplicate
    detail: str
    room_id: str | None = None
    event_seq: int | None = None


@dataclass
class PostIntent:
    """Routing found an active member: post as them (outside the routing transaction)."""

    account: Account
    room_id: str
    route: str


Routed = Decision | PostIntent


class InboundProcessor:
    def __init__(self) -> None:
        self._running: asyncio.Task[int] | None = None
        self._again = False
        self._waiting: asyncio.Task[None] | None = None
        self._first_arrival = 0.0
        self._last_arrival = 0.0

    def kick_when_quiet(self, services: "Services") -> None:
        """After a mail is stored: process once the SMTP side has been quiet for QUIET_SECONDS, and
        at the latest LONGEST_WAIT_SECONDS after the first mail that is waiting. In one process,
        posting shares the CPU with the SMTP sessions; a burst is accepted at full speed first,
        because a sender waiting for its 250 costs more than a reply posted a moment later."""
        now = asyncio.get_running_loop().time()
        self._last_arrival = now
        if self._waiting is None or self._waiting.done():
            self._first_arrival = now
            self._waiting = asyncio.create_task(self._kick_after_quiet(services), name="workroom-inbound-wait")

    async def _make_way_for_arrivals(self) -> None:
        """In one process, mail that is still arriving goes first: before each post, wait for a
        quiet moment on the SMTP side, but at most QUIET_SECONDS, so posting never stops (at
        least 20 a second per lane while mail streams in). A worker process hears of no arrivals."""
        loop = asyncio.get_running_loop()
        quiet_at = self._last_arrival + QUIET_SECONDS
        if quiet_at > loop.time():
            await asyncio.sleep(min(quiet_at - loop.time(), QUIET_SECONDS))

    async def _kick_after_quiet(self, services: "Services") -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = min(self._last_arrival + QUIET_SECONDS, self._first_arrival + LONGEST_WAIT_SECONDS)
            if due <= loop.time():
                break
            await asyncio.sleep(due - loop.time())
        self.kick(services)

    def kick(self, services: "Services") -> None:
        """Process new mail soon, in the background; one run at a time, re-run if kicked meanwhile."""
        if self._running is not None and not self._running.done():
            self._again = True
            return
        self._running = asyncio.create_task(self._run_until_quiet(services), name="workroom-inbound-mail")

    async def _run_until_quiet(self, services: "Services") -> int:
        total = 0
        while True:
            self._again = False
            try:
                total += await self.run(services)
            except Exception:
                log.exception("inbound processing failed; the worker retries")
            if not self._again:
                return total

    async def wait_idle(self) -> None:
        if self._waiting is not None and not self._waiting.done():
            await asyncio.shield(self._waiting)
        while self._running is not None and not self._running.done():
            await asyncio.shield(self._running)

    async def run(self, services: "Services") -> int:
        """Process every stored mail that is due; returns how many were finished.

        Per claimed batch: parse every mail, route them all in one transaction (holds and bounces
        are queued there), post the ones to post through the core's command (one transaction
        each; on PostgreSQL LANES at a time), and record every outcome in one transaction."""
        done = 0
        while True:
            batch = await claim_batch(services, limit=BATCH)
            if not batch:
                return done
            identity = MailIdentity.of(services.settings)
            parsed = [(claimed, parse_inbound_mail(claimed.raw, envelope_sender=claimed.mail_from,
                                                   recipients=claimed.rcpt_to, our_domains=(identity.domain,)))
                      for claimed in batch]
            try:
                routed = await self._route_batch(services, identity, parsed)
            except Exception as error:  # the database went away: the whole batch is retried later
                await self._retry(services, [(claimed, error) for claimed in batch])
                return done
            finished: list[tuple[Claimed, InboundMail, Decision]] = []
            failed: list[tuple[Claimed, Exception]] = []
            to_post: list[tuple[Claimed, InboundMail, PostIntent]] = []
            for claimed, mail, result in routed:
                if isinstance(result, PostIntent):
                    to_post.append((claimed, mail, result))
                else:
                    finished.append((claimed, mail, result))

            async def lane() -> None:
                while to_post and not failed:
                    await self._make_way_for_arrivals()
                    claimed, mail, intent = to_post.pop(0)
                    try:
                        decision = await self._post(services, intent.account, intent.room_id, mail, intent.route)
                    except Exception as error:  # the database went away, a bug: retried later
                        failed.append((claimed, error))
                        return
                    finished.append((claimed, mail, decision))

            # SQLite has one writer: more lanes would only queue on its lock (and sleep in its busy handler).
            lanes = 1 if services.db.is_sqlite else LANES
            await asyncio.gather(*(lane() for _ in range(lanes)))
            await self._record(services, finished)
            done += len(finished)
            if failed:
                await self._retry(services, failed)
                return done

    async def _retry(self, services: "Services", failed: list[tuple[Claimed, Exception]]) -> None:
        for claimed, error in failed:
            log.error("processing inbound mail %s failed; it is retried", claimed.id, exc_info=error)
            try:
                await retry_later(services, claimed.id, f"{type(error).__name__}: {error}")
            except Exception:
                log.warning("could not record the retry of mail %s; its lease will expire", claimed.id)

    async def _record(self, services: "Services", finished: list[tuple[Claimed, InboundMail, Decision]]) -> None:
        """Outcomes of a batch in one transaction. Lost if the process dies first: the mails are
        processed again when their lease ends, and posting them again is a no-op (idempotency key)."""
        if not finished:
            return
        async with services.transaction() as tx:
            rows = [{"mail_id": claimed.id, "message_id": (mail.message_id or "")[:500] or None,
                     "fingerprint": mail.fingerprint, "from_address": mail.from_address[:320],
                     "outcome": decision.outcome, "detail": decision.detail[:500], "room_id": decision.room_id,
                     "event_seq": decision.event_seq, "processed_at": tx.now}
                    for claimed, mail, decision in finished]
            await tx.session.execute(RECORD_OUTCOME, rows)  # one executemany
        for claimed, mail, decision in finished:
            MAIL_PROCESSED.labels(decision.outcome).inc()
            log.info("inbound mail %s from %s: %s (%s)", claimed.id, mail.from_address, decision.outcome,
                     decision.detail)

    async def _route_batch(self, services: "Services", identity: MailIdentity,
                           parsed: list[tuple[Claimed, InboundMail]]) -> list[tuple[Claimed, InboundMail, Routed]]:
        seen: dict[str, int] = {}  # Message-IDs and fingerprints of this batch: copies within it
        bounced: set[str] = set()  # senders bounced in this batch (not yet recorded)
        routed: list[tuple[Claimed, InboundMail, Routed]] = []
        async with services.transaction() as tx:
            # Two queries for the whole batch instead of two per mail.
            earlier = await _earlier_copies(tx, [mail for _, mail in parsed], max(c.id for c, _ in parsed))
            owners = await _token_owners(tx, [token for _, mail in parsed for token in mail.all_tokens])
            for claimed, mail in parsed:
                keys = [key for key in (mail.message_id, mail.fingerprint) if key]
                copy_of = next((seen[key] for key in keys if key in seen), None)
                for key in keys:
                    seen.setdefault(key, claimed.id)
                if copy_of is not None:
                    routed.append((claimed, mail, Decision("duplicate", f"same mail as inbound #{copy_of}")))
                    continue
                duplicate = earlier.first_before(claimed.id, mail)
                if duplicate is not None:
                    routed.append((claimed, mail, Decision("duplicate", f"same mail as inbound #{duplicate}")))
                    continue
                routed.append((claimed, mail, await self._route(tx, identity, mail, owners, bounced)))
        return routed

    async def _route(self, tx: "Tx", identity: MailIdentity, mail: InboundMail,
                     owners: dict[str, "TokenOwner"], bounced: set[str]) -> Routed:
        if mail.automatic:
            return Decision("ignore", f"automatic mail: {mail.automatic}")
        owner = next((owners[token] for token in mail.all_tokens if token in owners), None)
        if owner is not None:
            room_id, account, member = owner
            route = "reply address"
            if account.email.lower() != mail.from_address:
                room = await tx.session.get(Room, room_id)
                assert room is not None
                self._tell_owner(tx, room, account, mail)
                return Decision("hold", f"From {mail.from_address} is not the owner of the {route}", room_id)
        else:
            found_room: str | None = None
            route = ""
            for tag, how in [(mail.subject_tag, "subject tag"), *[(t, "threading headers") for t in mail.thread_tags]]:
                if found_room is None and tag:
                    found_room, route = await tokens.room_for_tag(tx, tag), how
            if found_room is None:
                return await self._unmatched(tx, identity, mail, bounced)
            room_id = found_room
            found = await find_by_email(tx.session, mail.from_address) if mail.from_address else None
            if found is None:
                return Decision("refuse", f"{mail.from_address or 'unknown sender'} is not a member", room_id)
            account = found
            member = await membership(tx, room_id, account.id)
        if member is None or member.removed_at is not None:
            return Decision("refuse", f"{account.email} is not a member of the room", room_id)
        if member.expired_at(tx.now):
            return Decision("refuse", f"guest access of {account.email} has ended", room_id)
        return PostIntent(account, room_id, route)

    async def _post(self, services: "Services", account: Account, room_id: str, mail: InboundMail,
                    route: str) -> Decision:
        settings = services.settings
        body = mail.text
        notes: list[str] = []
        if len(body) > settings.max_message_chars:
            body = body[: settings.max_message_chars - 40].rstrip() + "\n\n[… cut: the mail was longer]"
        file_ids: list[str] = []
        for attachment in mail.attachments:
            if len(attachment.data) > settings.max_upload_bytes:
                notes.append(f"[{attachment.filename} was not kept: over the upload size limit]")
                continue
            received = received_from_bytes(settings.upload_dir / "incoming", attachment.filename,
                                           attachment.content_type, attachment.data)
            try:
                row = await keep_file(services, account, room_id, received)
            except ApiError as error:
                return Decision("refuse", error.message, room_id)
            file_ids.append(row.id)
        if notes:
            body = "\n\n".join([body, *notes]).strip()
        key = mail.message_id or mail.fingerprint
        client_id = "email:" + hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:40]
        try:
            event = await commands.post_message(services, account, room_id, body, files=file_ids,
                                                client_id=client_id, source="email")
        except ApiError as error:
            outcome = "ignore" if error.code == "empty_message" else "refuse"
            return Decision(outcome, error.message, room_id)
        return Decision("post", f"posted by {account.email} via {route}", room_id, event.seq)

    def _tell_owner(self, tx: "Tx", room: Room, owner: Account, mail: InboundMail) -> None:
        text = (
            f"Hello {owner.name},\n\n"
            f"A reply to \u201c{room.title}\u201d was sent to your personal reply address, but it came from\n"
            f"{mail.from_address or 'an unreadable sender'}, not from {owner.email}. It was NOT posted.\n\n"
            "If someone you forwarded a notification to answered it, ask them to write to you instead,\n"
            "or post it yourself. If you sent it from another address, send it again from "
            f"{owner.email}.\n\nThe held text:\n\n" + "\n".join("> " + line for line in mail.text.splitlines())
        )
        queue_notice(tx, to=owner.email, subject=f"Held, not posted: a reply to \u201c{room.title}\u201d from {mail.from_address}",
                     text=text, in_reply_to=mail.message_id, room_id=room.id, account_id=owner.id)

    async def _unmatched(self, tx: "Tx", identity: MailIdentity, mail: InboundMail, bounced: set[str]) -> Decision:
        """No room: one bounce that says why, only to someone we know, at most once per BOUNCE_INTERVAL."""
        session = tx.session
        sender = mail.from_address
        known = None
        if sender and sender == mail.envelope_sender:
            account = await find_by_email(session, sender)
            if account is not None:
                known = await session.scalar(select(func.count()).select_from(Member).where(
                    Member.account_id == account.id))
        if not known:
            return Decision("ignore", "matches no room; sender unknown, so no bounce")
        recent = await session.scalar(select(func.count()).select_from(ReceivedMail).where(
            ReceivedMail.from_address == sender, ReceivedMail.outcome == "bounce",
            ReceivedMail.processed_at > tx.now - BOUNCE_INTERVAL))
        if recent or sender in bounced:
            return Decision("ignore", "matches no room; a bounce was sent to this sender recently")
        bounced.add(sender)
        sent_to = ", ".join(mail.recipients) or bare_reply_address(identity.domain)
        text = (
            f"Your mail \u201c{mail.subject}\u201d reached Workroom but could not be matched to a room, so nothing "
            "was posted.\n\n"
            f"Why: the subject has no room tag like {subject_tag('abc123')} (it was changed or removed), and the "
            f"mail was sent to {sent_to} instead of your personal reply address "
            f"({reply_address('…', identity.domain)}).\n\n"
            "To post it, reply to any notification mail from the room without changing the address it replies to, "
            "or keep the [WR:…] tag in the subject. You can also post in the room on the web.\n"
        )
        queue_notice(tx, to=sender, subject=f"Not delivered to a room: {mail.subject}"[:300], text=text,
                     in_reply_to=mail.message_id)
        return Decision("bounce", "matches no room; the sender was told why")


TokenOwner = tuple[str, Account, "Member | None"]  # room id, account, membership (None if never a member)


async def _token_owners(tx: "Tx", tokens_seen: list[str]) -> dict[str, TokenOwner]:
    """The room, account and membership each live token names, in one query."""
    if not tokens_seen:
        return {}
    by_hash = {tokens.token_hash(token): token for token in tokens_seen}
    rows = await tx.session.execute(
        select(ReplyToken.token_hash, ReplyToken.room_id, Account, Member)
        .join(Account, Account.id == ReplyToken.account_id)
        .outerjoin(Member, and_(Member.room_id == ReplyToken.room_id, Member.account_id == ReplyToken.account_id))
        .where(ReplyToken.token_hash.in_(list(by_hash)), ReplyToken.revoked_at.is_(None))
    )
    return {by_hash[token_hash]: (room_id, account, member) for token_hash, room_id, account, member in rows}


@dataclass
class EarlierCopies:
    """Mail stored and handled before this batch, by Message-ID and by content fingerprint."""

    by_key: dict[str, list[int]]

    def first_before(self, mail_id: int, mail: InboundMail) -> int | None:
        ids = [earlier for key in (mail.message_id and mail.message_id[:500], mail.fingerprint) if key
               for earlier in self.by_key.get(key, ()) if earlier < mail_id]
        return min(ids) if ids else None


async def _earlier_copies(tx: "Tx", mails: list[InboundMail], below_id: int) -> EarlierCopies:
    fingerprints = {mail.fingerprint for mail in mails if mail.fingerprint}
    message_ids = {mail.message_id[:500] for mail in mails if mail.message_id}
    rows = await tx.session.execute(
        select(ReceivedMail.id, ReceivedMail.message_id, ReceivedMail.fingerprint).where(
            or_(ReceivedMail.fingerprint.in_(fingerprints), ReceivedMail.message_id.in_(message_ids)),
            ReceivedMail.id < below_id, ReceivedMail.outcome.is_not(None), ReceivedMail.outcome != "duplicate"))
    by_key: dict[str, list[int]] = {}
    for mail_id, message_id, fingerprint in rows:
        for key in (message_id, fingerprint):
            if key:
                by_key.setdefault(key, []).append(int(mail_id))
    return EarlierCopies(by_key)


_table = ReceivedMail.__table__
RECORD_OUTCOME = (
    update(_table).where(_table.c.id == bindparam("mail_id"))
    .values(status="done", message_id=bindparam("message_id"), fingerprint=bindparam("fingerprint"),
            from_address=bindparam("from_address"), outcome=bindparam("outcome"), detail=bindparam("detail"),
            room_id=bindparam("room_id"), event_seq=bindparam("event_seq"), processed_at=bindparam("processed_at"))
)
