"""Bytes to text for mail bodies, with the fallbacks real mail needs.

Mail in the wild mislabels its charset all the time: Latin-1 labels on Windows-1252
text (curly quotes, euro sign), no label on UTF-8, unknown labels. We follow the
WHATWG Encoding Standard's lead (iso-8859-1 and us-ascii mean windows-1252) and
never fail: the last resort is Latin-1, which maps every byte.
"""
from __future__ import annotations

import codecs
from email.header import Header, decode_header

_WINDOWS_1252_ALIASES = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "us-ascii", "ascii", "cp819"}


def _known(charset: str) -> str | None:
    try:
        return codecs.lookup(charset).name
    except LookupError:
        return None


def decode_text(data: bytes, declared: str | None) -> str:
    candidates: list[str] = []
    label = (declared or "").strip().strip('"').lower()
    if label in _WINDOWS_1252_ALIASES:
        # ASCII-labelled 8-bit text is most often UTF-8 from a client that forgot the label.
        if label in {"us-ascii", "ascii"}:
            candidates.append("utf-8")
        candidates.append("cp1252")
    elif label and _known(label):
        candidates.append(label)
    candidates += ["utf-8", "cp1252"]
    for charset in candidates:
        try:
            return data.decode(charset)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("latin-1")


def repair_header_text(value: str) -> str:
    """Headers with raw 8-bit bytes reach us as surrogate escapes; read them as UTF-8 or cp1252."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    raw = value.encode("utf-8", errors="surrogateescape")
    return decode_text(raw, None)


def decode_header_value(value: str | Header | None) -> str:
    """A raw header (RFC 2047 encoded words, possibly split across words and lines, or raw 8-bit
    bytes) as text. Never raises: an undecodable part is read with the body fallbacks."""
    if value is None:
        return ""
    try:
        parts = decode_header(value)
    except Exception:
        return repair_header_text(str(value))
    text = []
    for data, charset in parts:
        if isinstance(data, str):
            text.append(repair_header_text(data))
        else:
            text.append(decode_text(data, None if charset in (None, "unknown-8bit") else charset))
    return "".join(text)
