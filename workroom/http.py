"""The HTTP edge's few shared pieces: JSON bodies with a size limit, JSON responses, and the
handler wrapper that signs the caller in and turns `ApiError` into `{"error": {code, message}}`."""

from __future__ import annotations

import json
import math
from typing import Any, Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from workroom.accounts import Account
from workroom.auth import authenticate
from workroom.errors import ApiError, invalid
from workroom.services import Services
from workroom.validation import Fields

MAX_JSON_BYTES = 1024 * 1024

Handler = Callable[[Request, Services, Account], Awaitable[Response]]


def services_of(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def error_response(error: ApiError) -> JSONResponse:
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
    return JSONResponse(error.as_json(), status_code=error.status, headers=headers)


def ok(payload: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(payload, status_code=status)


async def json_body(request: Request) -> Fields:
    size = 0
    chunks = []
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_JSON_BYTES:
            raise ApiError(413, "body_too_large", f"JSON bodies may be at most {MAX_JSON_BYTES} bytes.")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return Fields({})
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "bad_json", "The body is not valid JSON.") from None
    return Fields(data)


def idempotency_key(request: Request, fields: Fields | None = None) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is None and fields is not None:
        key = fields.str("client_id", required=False, max_len=200)
    if key is not None and not (0 < len(key) <= 200):
        raise ApiError(422, "invalid_field", "Idempotency-Key must be 1 to 200 characters.")
    return key


def signed_in(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        services = services_of(request)
        account = await authenticate(request, services)
        if request.method not in ("GET", "HEAD"):
            count_write(services, account)
        return await handler(request, services, account)

    endpoint.__name__ = handler.__name__
    return endpoint


def count_write(services: Services, account: Account) -> None:
    """Each person's writes over HTTP are limited per minute (WORKROOM_HTTP_WRITES_PER_MINUTE), as a
    socket's posts are; the marketplace's service account, which sets up rooms in bulk, is not."""
    if account.kind == "service" or services.http_writes.allow(account.id):
        return
    wait = math.ceil(services.http_writes.retry_after(account.id)) or 1
    raise ApiError(429, "rate_limited", f"Too many changes in a minute; try again in {wait} s.", retry_after=wait)


def path_param(request: Request, name: str) -> str:
    return str(request.path_params[name])


def query_int(request: Request, name: str, default: int) -> int:
    """A whole-number query parameter (422 naming it when it is not one)."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(name, "must be an integer") from None
    if value < 0:
        raise invalid(name, "must not be negative")
    return value


def page_limit(request: Request, services: Services, default: int) -> int:
    """`limit`: how many items one page holds, 1 to WORKROOM_MAX_PAGE_SIZE."""
    limit = query_int(request, "limit", default)
    if limit < 1 or limit > services.settings.max_page_size:
        raise invalid("limit", f"must be between 1 and {services.settings.max_page_size}")
    return limit
