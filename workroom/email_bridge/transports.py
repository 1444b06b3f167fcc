"""Where outbound mail goes: a real SMTP relay (aiosmtplib), or the embedded mailbox folder."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse

import aiosmtplib


class PermanentFailure(Exception):
    """The relay refused the mail for good (5xx): retrying cannot help."""


class MailTransport(Protocol):
    async def send(self, message: EmailMessage, sender: str, recipients: list[str]) -> None: ...


@dataclass
class SmtpRelay:
    hostname: str
    port: int
    use_tls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0

    @classmethod
    def from_url(cls, url: str) -> "SmtpRelay":
        parsed = urlparse(url)
        secure = parsed.scheme == "smtps"
        return cls(hostname=parsed.hostname or "127.0.0.1", port=parsed.port or (465 if secure else 25),
                   use_tls=secure, username=unquote(parsed.username) if parsed.username else None,
                   password=unquote(parsed.password) if parsed.password else None)

    async def send(self, message: EmailMessage, sender: str, recipients: list[str]) -> None:
        try:
            await aiosmtplib.send(
                message, sender=sender, recipients=recipients, hostname=self.hostname, port=self.port,
                use_tls=self.use_tls, start_tls=None if not self.use_tls else False,
                username=self.username, password=self.password, timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            if all(500 <= refused.code < 600 for refused in error.recipients):
                raise PermanentFailure(str(error)) from error
            raise
        except aiosmtplib.SMTPResponseException as error:
            if 500 <= error.code < 600:
                raise PermanentFailure(f"{error.code} {error.message}") from error
            raise


@dataclass
class MailboxFolder:
    """The embedded default: each mail becomes a .eml file, listed at /dev/mailbox."""

    directory: Path

    async def send(self, message: EmailMessage, sender: str, recipients: list[str]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        safe_to = re.sub(r"[^A-Za-z0-9@._-]", "_", ",".join(recipients))[:80]
        path = self.directory / f"{stamp}-{safe_to}.eml"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(message.as_bytes())
        tmp.rename(path)


def transport_for(settings: object) -> MailTransport:
    url = getattr(settings, "smtp_url", None)
    if url:
        return SmtpRelay.from_url(url)
    return MailboxFolder(Path(getattr(settings, "var_dir")) / "mailbox")
