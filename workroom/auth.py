"""Who is asking: HS256 JWT bearer tokens (PyJWT), and the browser's signed session cookie
(itsdangerous) that `/login?token=` exchanges a token for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlparse

import jwt
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from starlette.requests import HTTPConnection

from workroom.accounts import KINDS, Account, account_by_id, account_for_token, token_account
from workroom.errors import ApiError
from workroom.reads import reading
from workroom.services import Services

SESSION_COOKIE = "workroom_session"
SESSION_MAX_AGE = 14 * 24 * 3600
TOKEN_ROLES = ("member", "support", "lead", "service")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def unauthenticated(message: str = "Sign in first: send a bearer token or use your login link.") -> ApiError:
    return ApiError(401, "not_authenticated", message)


@dataclass(frozen=True)
class Claims:
    sub: str
    email: str
    name: str
    role: str
    expires_at: datetime | None = None


@dataclass(frozen=True)
class SignedIn:
    """Who is asking, and until when the credential they showed is good (a long-lived socket
    must stop when it is no longer)."""
    account: Account
    expires_at: datetime


def mint_token(secret: str, *, sub: str, email: str, name: str, role: str, now: datetime, ttl: timedelta) -> str:
    if role not in TOKEN_ROLES:
        raise ValueError(f"role must be one of {', '.join(TOKEN_ROLES)}")
    payload = {"sub": sub, "email": email, "name": name, "role": role,
               "iat": int(now.timestamp()), "exp": int((now + ttl).timestamp())}
    return jwt.encode(payload, secret, algorithm="HS256")


def read_token(secret: str, token: str, now: datetime) -> Claims:
    try:
        payload: dict[str, Any] = jwt.decode(
            token, secret, algorithms=["HS256"], options={"require": ["sub", "exp"], "verify_exp": False},
        )
    except jwt.InvalidTokenError:
        raise unauthenticated("The token is not valid.") from None
    # Expiry is checked against the server clock, so the test clock governs tokens too.
    if not isinstance(payload.get("exp"), int) or payload["exp"] <= now.timestamp():
        raise unauthenticated("The token has expired; ask for a new login link.")
    role = payload.get("role", "member")
    email, name = payload.get("email"), payload.get("name")
    if role not in KINDS or not isinstance(email, str) or "@" not in email or not isinstance(payload["sub"], str):
        raise unauthenticated("The token lacks a valid sub, email or role.")
    return Claims(sub=payload["sub"], email=email, name=name if isinstance(name, str) and name else email, role=role,
                  expires_at=datetime.fromtimestamp(payload["exp"], timezone.utc))


def session_serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="workroom-session")


def session_cookie_value(secret: str, account_id: str) -> str:
    return session_serializer(secret).dumps(account_id)


async def authenticate(conn: HTTPConnection, services: Services, *, allow_query_token: bool = False) -> Account:
    """The signed-in account, or 401. Cookie sessions must come from our own origin on writes."""
    return (await sign_in(conn, services, allow_query_token=allow_query_token)).account


async def sign_in(conn: HTTPConnection, services: Services, *, allow_query_token: bool = False) -> SignedIn:
    """`authenticate`, with the credential's expiry (a token's `exp`, a session cookie's age limit)."""
    header = conn.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else None
    if token is None and allow_query_token:
        token = conn.query_params.get("token")
    if token:
        claims = read_token(services.settings.secret, token, services.clock.now())
        assert claims.expires_at is not None
        # Nearly always the account exists as the token says: one read, no transaction. A new
        # account, or a role that changes its kind, is written in a transaction.
        async with reading(services) as tx:
            account = await token_account(tx, claims.sub, claims.email)
        if account is None or account.kind != claims.role:
            async with services.transaction() as tx:
                account = await account_for_token(tx, claims.sub, claims.email, claims.name, claims.role)
        return SignedIn(account, claims.expires_at)
    cookie = conn.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise unauthenticated()
    try:
        account_id, signed_at = session_serializer(services.settings.secret).loads(
            cookie, max_age=SESSION_MAX_AGE, return_timestamp=True)
    except (BadSignature, SignatureExpired):
        raise unauthenticated("Your session has ended; use your login link again.") from None
    _check_same_origin(conn)
    async with reading(services) as tx:
        found = await account_by_id(tx, account_id)
    if found is None:
        raise unauthenticated()
    return SignedIn(found, signed_at + timedelta(seconds=SESSION_MAX_AGE))


def _check_same_origin(conn: HTTPConnection) -> None:
    """Cross-site request forgery guard for cookie sessions: a write (or a WebSocket, which
    browsers open cross-site freely) must come from a page of ours."""
    method = conn.scope.get("method", "WEBSOCKET")
    if method in SAFE_METHODS:
        return
    origin = conn.headers.get("origin")
    if origin is None:
        if conn.headers.get("sec-fetch-site") in ("same-origin", "none"):
            return
        raise ApiError(403, "cross_site_request", "Writes with a session cookie need an Origin header.")
    host = conn.headers.get("host", "")
    if urlparse(origin).netloc != host:
        raise ApiError(403, "cross_site_request", "This request came from another site.")
