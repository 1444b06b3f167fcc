"""Raw RFC 5322 bytes -> InboundMail. Pure: no database, no network, no clock."""
from __future__ import annotations

import hashlib
from email import policy
from email.message import Message
from email.parser import BytesParser

from . import addresses
from .automatic import automatic_reason
from .html_text import html_reply_to_text, html_to_text
from .inbound_mail import InboundMail
from .mime_reader import header_text, header_values, read_body
from .reply_trimmer import trim_reply


def _parse_message(raw: bytes) -> Message:
    # compat32 reads anything and is ~10x faster than policy.default; headers are decoded on demand.
    return BytesParser(policy=policy.compat32).parsebytes(raw)


def parse_inbound_mail(
    raw: bytes,
    *,
    envelope_sender: str,
    recipients: list[str],
    our_domains: tuple[str, ...],
) -> InboundMail:
    domains = tuple(domain.lower() for domain in our_domains)
    message = _parse_message(raw)

    senders = addresses.parse_address_list(header_values(message, "From")[:1])
    from_name, from_address = senders[0] if senders else ("", "")
    to = [addr for _, addr in addresses.parse_address_list(header_values(message, "To"))]
    cc = [addr for _, addr in addresses.parse_address_list(header_values(message, "Cc"))]
    rcpts = [addresses.normalize_address(rcpt) for rcpt in recipients]
    subject = header_text(message, "Subject")

    message_ids = addresses.message_ids_in(header_text(message, "Message-ID"))
    in_reply_to = addresses.message_ids_in(header_text(message, "In-Reply-To"))
    references = addresses.message_ids_in(header_text(message, "References"))
    thread_tags: list[str] = []
    for message_id in [*in_reply_to, *reversed(references)]:
        tag = addresses.tag_in_message_id(message_id, domains)
        if tag and tag not in thread_tags:
            thread_tags.append(tag)

    body = read_body(message)
    if body.plain is not None and body.plain.strip():
        full_text = body.plain
        text = trim_reply(body.plain, from_name)
    elif body.html is not None:
        full_text = html_to_text(body.html)
        text = trim_reply(html_reply_to_text(body.html), from_name)
    else:
        full_text = text = ""

    mail = InboundMail(
        envelope_sender=addresses.normalize_address(envelope_sender),
        recipients=rcpts,
        from_address=from_address,
        from_name=from_name,
        to=to,
        cc=cc,
        rcpt_tokens=_tokens(rcpts, domains),
        header_tokens=_tokens([*to, *cc], domains),
        subject=subject,
        subject_tag=addresses.tag_in_subject(subject),
        message_id=message_ids[0] if message_ids else None,
        in_reply_to=in_reply_to,
        references=references,
        thread_tags=thread_tags,
        text=text,
        full_text=full_text.strip(),
        attachments=body.attachments,
        defects=body.defects,
    )
    mail.automatic = automatic_reason(message, envelope_sender, from_address, subject, domains)
    mail.fingerprint = _fingerprint(mail, header_text(message, "Date"))
    return mail


def _tokens(candidates: list[str], domains: tuple[str, ...]) -> list[str]:
    found: list[str] = []
    for address in candidates:
        token = addresses.token_in_address(address, domains)
        if token and token not in found:
            found.append(token)
    return found


def _fingerprint(mail: InboundMail, date: str) -> str:
    """Same sender, date, subject and content: the same mail, even when relays changed its trace headers."""
    digest = hashlib.sha256()
    for part in (mail.from_address, date, mail.subject, mail.full_text, *(a.sha256 for a in mail.attachments)):
        digest.update(part.encode("utf-8", errors="surrogateescape"))
        digest.update(b"\x00")
    return digest.hexdigest()
