"""Real SMTP over loopback for the email bridge tests: a capturing relay (what the worker sends
to) and a client that reports the SMTP codes a sender would see."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import aiosmtplib
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass
class Delivered:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def to(self) -> str:
        return self.rcpt_tos[0]


@dataclass
class MailSink:
    """A real SMTP server that keeps what it is sent: the tests' mail relay."""

    port: int
    delivered: list[Delivered] = field(default_factory=list)
    _server: asyncio.base_events.Server | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        message = BytesParser(policy=policy.default).parsebytes(envelope.original_content or b"")
        self.delivered.append(Delivered(envelope.mail_from or "", list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 OK"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: SMTP(self, decode_data=False), "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def to(self, address: str) -> list[EmailMessage]:
        return [d.message for d in self.delivered if address.lower() in [r.lower() for r in d.rcpt_tos]]


@dataclass
class SmtpResult:
    code: int
    message: str
    stage: str  # rcpt | data | connect


async def send_raw(port: int, raw: bytes, mail_from: str, rcpt_to: list[str]) -> SmtpResult:
    """Send like an MTA would, reporting where and with what code the server answered."""
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=30, start_tls=False)
    try:
        await client.connect()
    except (aiosmtplib.SMTPConnectError, OSError) as error:
        return SmtpResult(0, str(error), "connect")
    try:
        await client.ehlo()
        await client.mail(mail_from)
        for address in rcpt_to:
            try:
                await client.rcpt(address)
            except aiosmtplib.SMTPRecipientRefused as error:
                return SmtpResult(error.code, error.message, "rcpt")
        try:
            response = await client.data(raw)
        except aiosmtplib.SMTPResponseException as error:
            return SmtpResult(error.code, error.message, "data")
        return SmtpResult(response.code, response.message, "data")
    finally:
        try:
            await client.quit()
        except Exception:
            client.close()
