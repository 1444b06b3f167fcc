"""Outbound mail, as the issue specifies: subject tag, per-member Reply-To token, stable
Message-ID and threading headers, Auto-Submitted, RFC 8058 one-click unsubscribe, a text part
that opens with the reply marker and an HTML part, links to the room."""
from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any, Callable

from itsdangerous import BadSignature, URLSafeSerializer

from . import addresses
from .reply_trimmer import REPLY_MARKER

MARKER_LINE = f"-- {REPLY_MARKER} --"
_UNSUBSCRIBE_SALT = "workroom-email-unsubscribe"


@dataclass(frozen=True)
class MailIdentity:
    """Where our mail comes from: the domain of reply addresses and the notifications sender."""

    domain: str
    from_name: str
    from_address: str
    base_url: str
    secret: str

    @classmethod
    def of(cls, settings: Any) -> "MailIdentity":
        name, address = parseaddr(settings.mail_from)
        return cls(settings.mail_domain.lower(), name or "Workroom", address or f"notifications@{settings.mail_domain}",
                   settings.base_url, settings.secret)

    @property
    def bounce_address(self) -> str:
        """Envelope sender of our mail: delivery reports come back here and are ignored."""
        return f"bounces@{self.domain}"

    def room_url(self, room_id: str) -> str:
        return f"{self.base_url}/?room={room_id}"


def unsubscribe_token(secret: str, room_id: str, account_id: str) -> str:
    return URLSafeSerializer(secret, salt=_UNSUBSCRIBE_SALT).dumps([room_id, account_id])


def read_unsubscribe_token(secret: str, token: str) -> tuple[str, str] | None:
    try:
        room_id, account_id = URLSafeSerializer(secret, salt=_UNSUBSCRIBE_SALT).loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    return str(room_id), str(account_id)


# Other packages' event types, in their own words: type → (actor name, data) → (headline, details).
# Each package registers its own from its `install(services)` (see workroom/components.py).
Describer = Callable[[str, dict[str, Any]], tuple[str, str]]
DESCRIBERS: dict[str, Describer] = {}


def describe(envelope: dict[str, Any]) -> tuple[str, str]:
    """(headline, details) for one event, in words a person reads in a mail."""
    actor = envelope.get("actor", {}).get("name", "Someone")
    data = envelope.get("data", {}) or {}
    kind = envelope.get("type", "")
    if kind in DESCRIBERS:
        return DESCRIBERS[kind](actor, data)
    files = data.get("files") or []
    file_lines = "\n".join(f"[file] {f.get('name')} ({f.get('size')} bytes)" for f in files if isinstance(f, dict))
    if kind == "message.posted":
        body = str(data.get("body", ""))
        relayed = (data.get("relayed") or {}).get("from") or {}
        headline = f"{actor} relayed a message from {relayed.get('name')}" if relayed else f"{actor} posted a message"
        return headline, "\n".join(part for part in (body, file_lines) if part)
    if kind == "status_report.submitted":
        lines = [str(data.get("summary", ""))]
        lines += [f"- {m.get('title')}: {m.get('percent_complete')}%" for m in data.get("milestones", [])]
        return f"{actor} filed a status report", "\n".join(lines)
    if kind == "meeting.invited":
        invitee = (data.get("invitee") or {}).get("name", "a member")
        when = data.get("proposed_at") or "a time to be agreed"
        return f"{actor} invited {invitee} to a meeting", f"Proposed: {when}\n{data.get('note') or ''}".strip()
    if kind in ("member.added", "member.removed", "member.access_ended"):
        member = (data.get("member") or {})
        verb = {"member.added": "added", "member.removed": "removed",
                "member.access_ended": "access ended for"}[kind]
        if kind == "member.access_ended":
            return f"Guest access ended for {member.get('name')}", ""
        return f"{actor} {verb} {member.get('name')} ({member.get('role')})", ""
    if kind == "room.created":
        return f"The workroom \u201c{data.get('title', '')}\u201d was opened", ""
    words = kind.replace(".", " ").replace("_", " ")
    return f"{actor}: {words}", ""


def _thread_ids(identity: MailIdentity, tag: str) -> str:
    return f"<{addresses.thread_message_id(tag, identity.domain, 'root')}>"


def event_mail(
    identity: MailIdentity,
    *,
    room_id: str,
    room_title: str,
    tag: str,
    token: str,
    recipient: tuple[str, str, str],  # account id, name, email
    envelopes: list[dict[str, Any]],
    now: datetime,
) -> EmailMessage:
    account_id, name, email = recipient
    described = [(envelope, *describe(envelope)) for envelope in envelopes]
    actors = {str(envelope.get("actor", {}).get("name", "")) for envelope in envelopes}
    if len(described) == 1:
        summary = described[0][1]
    else:
        summary = f"{len(described)} new updates"
    sender_name = f"{actors.pop()} via {identity.from_name}" if len(actors) == 1 else identity.from_name
    unsubscribe = f"{identity.base_url}/email/unsubscribe/{unsubscribe_token(identity.secret, room_id, account_id)}"
    room_url = identity.room_url(room_id)

    message = EmailMessage()
    message["From"] = formataddr((sender_name, identity.from_address))
    message["To"] = formataddr((name, email))
    message["Reply-To"] = formataddr((room_title, addresses.reply_address(token, identity.domain)))
    message["Subject"] = f"{addresses.subject_tag(tag)} {room_title}: {summary}"
    message["Date"] = format_datetime(now)
    recipient_key = hashlib.sha256(account_id.encode()).hexdigest()[:10]
    last_seq = envelopes[-1].get("seq")
    message["Message-ID"] = f"<{addresses.thread_message_id(tag, identity.domain, f'e{last_seq}.{recipient_key}')}>"
    message["In-Reply-To"] = _thread_ids(identity, tag)
    message["References"] = _thread_ids(identity, tag)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"  # asks Exchange/Outlook not to send out-of-office replies
    message["List-Id"] = f"{room_title} <{tag}.rooms.{identity.domain}>"
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"

    text_blocks = [MARKER_LINE, ""]
    html_blocks = [f'<p style="color:#888">{html.escape(MARKER_LINE)}</p>']
    for envelope, headline, details in described:
        at = str(envelope.get("at", ""))
        text_blocks += [f"{headline} ({at}):", *( [details] if details else []), ""]
        html_blocks.append(
            f"<p><b>{html.escape(headline)}</b> <span style=\"color:#888\">{html.escape(at)}</span></p>"
            + (f"<div style=\"white-space:pre-wrap\">{html.escape(details)}</div>" if details else "")
        )
    text_blocks += [
        f"Reply to this mail to post in \u201c{room_title}\u201d, or open the room: {room_url}",
        f"Stop mail from this room: {unsubscribe}",
    ]
    html_blocks.append(
        f'<p style="color:#888">Reply to this mail to post in \u201c{html.escape(room_title)}\u201d, or '
        f'<a href="{html.escape(room_url)}">open the room</a>. '
        f'<a href="{html.escape(unsubscribe)}">Stop mail from this room</a>.</p>'
    )
    message.set_content("\n".join(text_blocks) + "\n")
    message.add_alternative("<html><body>" + "\n".join(html_blocks) + "</body></html>", subtype="html")
    return message


def notice_mail(
    identity: MailIdentity, *, to: str, subject: str, text: str, in_reply_to: str | None, now: datetime
) -> EmailMessage:
    """A held-post notice or a bounce: a reply from the system, never answered in turn."""
    message = EmailMessage()
    message["From"] = formataddr((identity.from_name, identity.from_address))
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = f"<notice.{hashlib.sha256(f'{to}{subject}{now}'.encode()).hexdigest()[:20]}@{identity.domain}>"
    if in_reply_to:
        message["In-Reply-To"] = f"<{in_reply_to}>"
        message["References"] = f"<{in_reply_to}>"
    message["Auto-Submitted"] = "auto-replied"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(text + "\n")
    return message
