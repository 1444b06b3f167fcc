"""The inbound SMTP server (aiosmtpd): `workroom smtp`, or inside `workroom run`.

At RCPT: our reply addresses only (`550 5.1.1` otherwise), a live token, and rate limits per
token and per client IP (`451 4.7.1`). At DATA: the raw mail is stored in the database before
we answer 250; if it cannot be, `451 4.3.0` so the sender retries. aiosmtpd answers `552` past
the size limit. Any unexpected error becomes a 4xx, never a 5xx that would make the sender
drop the mail. Processing happens afterwards, off the SMTP conversation.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from workroom.clock import Clock
from workroom.metrics import SMTP_REPLIES
from workroom.rate_limit import RateLimiter
from workroom.reads import reading

from . import addresses, tokens
from .compose import MailIdentity
from .store_batcher import StoreBatcher
from .install import bridge_of
from .processor import InboundProcessor

if TYPE_CHECKING:
    from workroom.services import Services

log = logging.getLogger(__name__)

CANNOT_STORE = "451 4.3.0 Temporary failure storing the message; please retry"
RATE_LIMITED = "451 4.7.1 Too many messages; slow down and retry later"
NO_MAILBOX = "550 5.1.1 No such reply address here"


class LongLineSMTP(SMTP):
    """RFC 5321 caps lines at 1,000 octets, but real clients send longer ones; we accept them
    rather than bounce a person's mail (aiosmtpd would answer 500 past its default)."""

    line_length_limit = 64 * 1024


class TokenCache:
    """Tokens found live within the last minute, so a busy sender's RCPTs skip the lookup.
    A token revoked meanwhile is still refused: the store checks every token again in the
    transaction that would keep the mail, and answers 550 at DATA instead of 250."""

    TTL = timedelta(minutes=1)

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._seen: dict[str, datetime] = {}

    def has(self, token: str) -> bool:
        seen = self._seen.get(token)
        return seen is not None and seen > self.clock.now() - self.TTL

    def add(self, token: str) -> None:
        if len(self._seen) > 100_000:
            self._seen.clear()
        self._seen[token] = self.clock.now()


class InboundHandler:
    def __init__(self, services: "Services", processor: InboundProcessor) -> None:
        self.services = services
        self.processor = processor
        self.identity = MailIdentity.of(services.settings)
        self.per_token = RateLimiter(services.clock, services.settings.smtp_rate_per_token)
        self.per_ip = RateLimiter(services.clock, services.settings.smtp_rate_per_ip)
        self.store = StoreBatcher(services)
        self.known_tokens = TokenCache(services.clock)
        self.process_after_store = services.settings.smtp_process_inline

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        return _counted("RCPT", await self._rcpt(session, envelope, address))

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return _counted("DATA", await self._data(session, envelope))

    async def _rcpt(self, session: Session, envelope: Envelope, address: str) -> str:
        try:
            domains = (self.identity.domain,)
            normalized = addresses.normalize_address(address)
            token = addresses.token_in_address(normalized, domains)
            accepted_plain = {addresses.bare_reply_address(self.identity.domain), self.identity.bounce_address}
            if token is None and normalized not in accepted_plain:
                return NO_MAILBOX
            if token is not None and not self.known_tokens.has(token):
                async with reading(self.services) as tx:
                    if not await tokens.live_tokens(tx.session, [token]):
                        return NO_MAILBOX
                self.known_tokens.add(token)
            if token is not None:
                if not self.per_token.allow(token):
                    return RATE_LIMITED
            peer = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer)
            if not self.per_ip.allow(peer):
                return RATE_LIMITED
        except Exception:
            log.exception("RCPT check failed for %s", address)
            return CANNOT_STORE
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def _data(self, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", errors="surrogateescape")
        peer = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer)
        domains = (self.identity.domain,)
        addressed = [addresses.token_in_address(addresses.normalize_address(rcpt), domains)
                     for rcpt in envelope.rcpt_tos]
        # Kept only while one of its reply addresses is live, unless it also went to a plain address.
        must_be_live = [] if None in addressed else [token for token in addressed if token]
        try:
            mail_id = await self.store.store(peer=peer, mail_from=envelope.mail_from or "",
                                             rcpt_to=list(envelope.rcpt_tos), raw=bytes(raw),
                                             must_be_live=must_be_live)
        except Exception:
            log.exception("could not store inbound mail from %s", envelope.mail_from)
            return CANNOT_STORE
        if mail_id is None:
            return NO_MAILBOX
        if self.process_after_store:
            self.processor.kick_when_quiet(self.services)
        return f"250 2.0.0 OK queued as {mail_id}"

    async def handle_exception(self, error: Exception) -> str:
        log.exception("SMTP session error", exc_info=error)
        return CANNOT_STORE


def _counted(command: str, reply: str) -> str:
    SMTP_REPLIES.labels(command, reply[:3]).inc()
    return reply


class InboundSmtpServer:
    def __init__(self, services: "Services", processor: InboundProcessor | None = None) -> None:
        self.services = services
        self.processor = processor or bridge_of(services).processor
        self.handler = InboundHandler(services, self.processor)
        self._server: asyncio.base_events.Server | None = None

    def _protocol(self) -> LongLineSMTP:
        return LongLineSMTP(
            self.handler,
            data_size_limit=self.services.settings.max_inbound_mail_bytes,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=self.handler.identity.domain,
            ident="Workroom",
        )

    async def start(self, host: str | None = None, port: int | None = None) -> int:
        """Listen; returns the port (pass port 0 for a free one)."""
        settings = self.services.settings
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._protocol, host=host or settings.smtp_host, port=settings.smtp_port if port is None else port
        )
        bound: Any = self._server.sockets[0].getsockname()
        if self.handler.process_after_store:
            self.processor.kick(self.services)  # mail stored before a restart is processed now
        return int(bound[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        await self.processor.wait_idle()


async def serve_smtp(services: "Services", *, host: str | None = None, port: int | None = None,
                     retry_interval: float = 5.0) -> None:
    """`workroom smtp`: listen, and keep processing stored mail (retries, leases) until cancelled."""
    server = InboundSmtpServer(services)
    bound = await server.start(host, port)
    log.warning("inbound SMTP listening on %s:%s", host or services.settings.smtp_host, bound)
    try:
        while True:
            await asyncio.sleep(retry_interval)
            if server.handler.process_after_store:
                server.processor.kick(services)
    finally:
        await server.stop()
