"""The three places a room is named in mail: reply address, subject tag, Message-ID.

One module writes and reads all three so the outbound format and the inbound
matching can never drift apart.
"""
from __future__ import annotations

import re
from email.utils import getaddresses

from .charsets import decode_header_value

REPLY_LOCAL_PART = "reply"
TOKEN_ALPHABET_RE = r"[a-z0-9]{8,64}"
TAG_ALPHABET_RE = r"[A-Za-z0-9_-]{3,40}"

_REPLY_ADDRESS_RE = re.compile(rf"^{REPLY_LOCAL_PART}\+({TOKEN_ALPHABET_RE})@(.+)$", re.IGNORECASE)
_SUBJECT_TAG_RE = re.compile(rf"\[WR:\s*({TAG_ALPHABET_RE})\s*\]", re.IGNORECASE)
_THREAD_ID_RE = re.compile(rf"^wr\.({TAG_ALPHABET_RE})\.[^@]*@(.+)$", re.IGNORECASE)
_MESSAGE_ID_RE = re.compile(r"<([^<>\s]+)>")


def reply_address(token: str, domain: str) -> str:
    return f"{REPLY_LOCAL_PART}+{token}@{domain}"


def bare_reply_address(domain: str) -> str:
    """The address for mail that names its room only by subject tag or threading headers."""
    return f"{REPLY_LOCAL_PART}@{domain}"


def subject_tag(tag: str) -> str:
    return f"[WR:{tag}]"


def thread_message_id(tag: str, domain: str, suffix: str) -> str:
    """A Message-ID (without brackets) that names its room, so In-Reply-To can route a reply."""
    return f"wr.{tag}.{suffix}@{domain}"


def normalize_address(address: str) -> str:
    return address.strip().strip("<>").lower()


def is_our_domain(address: str, domains: tuple[str, ...]) -> bool:
    _, _, domain = normalize_address(address).rpartition("@")
    return domain in domains


def token_in_address(address: str, domains: tuple[str, ...]) -> str | None:
    match = _REPLY_ADDRESS_RE.match(normalize_address(address))
    if match is None or match.group(2) not in domains:
        return None
    return match.group(1).lower()


def tag_in_subject(subject: str) -> str | None:
    match = _SUBJECT_TAG_RE.search(subject)
    return match.group(1) if match else None


def message_ids_in(header_value: str) -> list[str]:
    """Message-IDs from In-Reply-To/References; tolerates missing brackets and folding."""
    found = _MESSAGE_ID_RE.findall(header_value)
    if not found and header_value.strip() and "@" in header_value:
        found = [word for word in header_value.split() if "@" in word]
    return [value.strip() for value in found]


def tag_in_message_id(message_id: str, domains: tuple[str, ...]) -> str | None:
    match = _THREAD_ID_RE.match(message_id.strip().strip("<>"))
    if match is None or match.group(2).lower() not in domains:
        return None
    return match.group(1)


def parse_address_list(values: list[str]) -> list[tuple[str, str]]:
    """(decoded display name, lower-cased addr-spec) pairs from raw header values; entries
    without an address are dropped. Split first, decode after: a decoded name may hold a comma."""
    return [(" ".join(decode_header_value(name).split()), normalize_address(addr))
            for name, addr in getaddresses(values) if "@" in addr]
