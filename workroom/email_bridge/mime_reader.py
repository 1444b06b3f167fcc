"""Walk a MIME tree once: the readable body (plain and HTML) and the attachments.

The stdlib parser (compat32 policy: an order of magnitude faster than policy.default and
more forgiving of broken mail) does the MIME structure and RFC 2231 parameters; RFC 2047
words are decoded in charsets.decode_header_value. This module adds the tolerance real mail
needs (mislabelled charsets, bad filenames, winmail.dat via tnefparse).
"""
from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import Message

import tnefparse

from workroom.rooms.files import safe_filename

from .charsets import decode_header_value, decode_text, repair_header_text
from .inbound_mail import MailAttachment

_TNEF_TYPES = {"application/ms-tnef", "application/vnd.ms-tnef"}


@dataclass
class MailBody:
    plain: str | None = None
    html: str | None = None
    attachments: list[MailAttachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)


def read_body(message: Message) -> MailBody:
    body = MailBody()
    _walk(message, body)
    return body


def _walk(part: Message, body: MailBody) -> None:
    """Depth-first like Message.walk(), but an attached mail stays one file: we never read into it."""
    body.defects += [type(defect).__name__ for defect in part.defects]
    if part.get_content_maintype() == "message":
        _attach_message(part, body)
        return
    if part.is_multipart():
        for child in part.get_payload():
            if isinstance(child, Message):
                _walk(child, body)
        return
    _read_leaf(part, body)


def _attach_message(part: Message, body: MailBody) -> None:
    payload = part.get_payload()
    try:
        if isinstance(payload, list):
            raw = b"\n".join(inner.as_bytes() for inner in payload if isinstance(inner, Message))
        else:
            raw = _payload_bytes(part, body)
    except Exception as exc:
        body.defects.append(f"unreadable attached message: {exc}")
        return
    name = _filename(part) or f"attached-message-{len(body.attachments) + 1}.eml"
    body.attachments.append(MailAttachment(name, part.get_content_type(), raw))


def _read_leaf(part: Message, body: MailBody) -> None:
    content_type = part.get_content_type()
    disposition = (part.get_content_disposition() or "").lower()
    filename = _filename(part)
    data = _payload_bytes(part, body)
    if content_type in _TNEF_TYPES or (filename or "").lower() == "winmail.dat":
        _unpack_tnef(data, body)
        return
    is_text = content_type in {"text/plain", "text/html"}
    if is_text and disposition != "attachment" and not filename:
        text = decode_text(data, part.get_content_charset())
        if content_type == "text/plain" and body.plain is None:
            body.plain = text
            return
        if content_type == "text/html" and body.html is None:
            body.html = text
            return
        if content_type == "text/plain" and body.plain is not None and text.strip():
            body.plain = body.plain.rstrip("\n") + "\n\n" + text  # several inline text parts
            return
        if content_type == "text/html":
            return  # a second HTML alternative adds nothing a reader would miss
    content_id = (part.get("Content-ID") or "").strip().strip("<>") or None
    name = filename or _default_name(content_type, len(body.attachments) + 1)
    body.attachments.append(
        MailAttachment(
            filename=name,
            content_type=content_type,
            data=data,
            content_id=content_id,
            inline=disposition == "inline" or (content_id is not None and disposition != "attachment"),
        )
    )


def _payload_bytes(part: Message, body: MailBody) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception as exc:  # a broken transfer encoding must not lose the rest of the mail
        body.defects.append(f"undecodable part: {exc}")
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    return raw.encode("utf-8", errors="surrogateescape") if isinstance(raw, str) else b""


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if not name:
        return None
    name = repair_header_text(str(name))
    if "=?" in name:  # RFC 2047 words inside a parameter: not standard, but Outlook and others do it
        try:
            name = str(make_header(decode_header(name)))
        except Exception:
            pass
    return safe_filename(name)


def _default_name(content_type: str, number: int) -> str:
    extension = mimetypes.guess_extension(content_type) or ".bin"
    stem = "image" if content_type.startswith("image/") else "attachment"
    return f"{stem}-{number}{extension}"


def _unpack_tnef(data: bytes, body: MailBody) -> None:
    try:
        tnef = tnefparse.TNEF(data, do_checksum=False)
    except Exception as exc:
        body.defects.append(f"unreadable winmail.dat: {exc}")
        body.attachments.append(MailAttachment("winmail.dat", "application/ms-tnef", data))
        return
    for attachment in tnef.attachments:
        name = safe_filename(str(attachment.long_filename() or attachment.name or "attachment"))
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        body.attachments.append(MailAttachment(name, content_type, bytes(attachment.data)))
    if body.plain is None and tnef.body:
        text = tnef.body if isinstance(tnef.body, str) else decode_text(tnef.body, "cp1252")
        body.plain = text.rstrip("\x00")
    if body.html is None and tnef.htmlbody:
        html = tnef.htmlbody if isinstance(tnef.htmlbody, str) else decode_text(tnef.htmlbody, None)
        body.html = html


def header_text(message: Message, name: str) -> str:
    """A header as readable text; malformed headers degrade to their raw text, never raise."""
    try:
        value = message.get(name)
    except Exception:
        value = None
    return " ".join(decode_header_value(value).split())


def header_values(message: Message, name: str) -> list[str]:
    """Raw values (still encoded): address lists must be split before their names are decoded."""
    try:
        values = message.get_all(name) or []
    except Exception:
        return []
    return [repair_header_text(str(value)) for value in values]
