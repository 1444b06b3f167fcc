"""Reply tokens (one per member per room) and room tags: issue, find, revoke.

A token is random (`secrets`), looked up by its sha256, and kept sealed for re-use in later
mail: XOR with an HMAC-SHA256 keystream keyed by WORKROOM_SECRET and the row's unique salt,
so a copy of the database alone reveals no working reply address.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING, Sequence

from sqlalchemy import bindparam, select

from .models import ReplyToken, RoomMailTag

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

    from workroom.services import Tx

_TOKEN_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"


def new_token() -> str:
    """24 characters of base32: 120 random bits, lower-case so mail systems cannot change it."""
    return "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(24))


def new_tag() -> str:
    return "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(8))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.lower().encode()).hexdigest()


def _keystream(secret: str, salt: str, length: int) -> bytes:
    stream = b""
    counter = 0
    while len(stream) < length:
        stream += hmac.new(secret.encode(), f"reply-token:{salt}:{counter}".encode(), hashlib.sha256).digest()
        counter += 1
    return stream[:length]


def seal(secret: str, token: str) -> str:
    salt = secrets.token_hex(8)
    data = token.encode()
    mixed = bytes(a ^ b for a, b in zip(data, _keystream(secret, salt, len(data))))
    return f"{salt}.{base64.urlsafe_b64encode(mixed).decode()}"


def unseal(secret: str, sealed: str) -> str:
    salt, _, encoded = sealed.partition(".")
    mixed = base64.urlsafe_b64decode(encoded)
    return bytes(a ^ b for a, b in zip(mixed, _keystream(secret, salt, len(mixed)))).decode()


async def live_tokens(conn: "AsyncConnection | AsyncSession", candidates: Sequence[str]) -> set[str]:
    """Which of these reply tokens exist and are not revoked, in one Core query (asked on the
    path of every RCPT and every stored mail)."""
    if not candidates:
        return set()
    by_hash = {token_hash(token): token for token in candidates}
    found = await conn.scalars(LIVE_TOKENS, {"hashes": list(by_hash)})
    return {by_hash[digest] for digest in found}


_tokens = ReplyToken.__table__
LIVE_TOKENS = select(_tokens.c.token_hash).where(
    _tokens.c.token_hash.in_(bindparam("hashes", expanding=True)), _tokens.c.revoked_at.is_(None))


async def member_token(tx: "Tx", secret: str, room_id: str, account_id: str, *, raw: str | None = None) -> str:
    """The member's live token for the room, issued now if they have none (`raw` fixes its value, for tests)."""
    rows = await tx.session.scalars(
        select(ReplyToken)
        .where(ReplyToken.room_id == room_id, ReplyToken.account_id == account_id, ReplyToken.revoked_at.is_(None))
        .order_by(ReplyToken.id.desc())
    )
    row = rows.first()
    if row is not None and raw is None:
        return unseal(secret, row.sealed)
    token = (raw or new_token()).lower()
    tx.session.add(ReplyToken(room_id=room_id, account_id=account_id, token_hash=token_hash(token),
                              sealed=seal(secret, token), created_at=tx.now))
    await tx.session.flush()
    return token


async def revoke_member_tokens(tx: "Tx", room_id: str, account_id: str) -> int:
    """Revoke the member's reply address for the room; the next mail carries a new one."""
    rows = await tx.session.scalars(
        select(ReplyToken).where(
            ReplyToken.room_id == room_id, ReplyToken.account_id == account_id, ReplyToken.revoked_at.is_(None)
        )
    )
    count = 0
    for row in rows:
        row.revoked_at = tx.now
        count += 1
    return count


async def room_tag(tx: "Tx", room_id: str, *, fixed: str | None = None) -> str:
    row = await tx.session.get(RoomMailTag, room_id)
    if row is None:
        row = RoomMailTag(room_id=room_id, tag=fixed or new_tag())
        tx.session.add(row)
        await tx.session.flush()
    return row.tag


async def room_for_tag(tx: "Tx", tag: str) -> str | None:
    row = await tx.session.scalar(select(RoomMailTag).where(RoomMailTag.tag == tag.lower()))
    if row is None:
        row = await tx.session.scalar(select(RoomMailTag).where(RoomMailTag.tag == tag))
    return row.room_id if row else None
