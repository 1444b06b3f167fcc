"""HTTP for the email bridge: RFC 8058 one-click unsubscribe, revoking one's reply address,
and the embedded dev mailbox (`/dev/mailbox`) that shows the mail `make run` sends."""
from __future__ import annotations

import html
from email import policy
from email.parser import BytesParser
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from workroom.accounts import Account
from workroom.errors import ApiError
from workroom.http import ok, path_param, services_of, signed_in
from workroom.rooms.access import membership, seat
from workroom.rooms.models import Room
from workroom.services import Services

from . import tokens
from .compose import read_unsubscribe_token
from .html_text import html_to_text

MAILBOX_PAGE_SIZE = 50


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
        "pre{white-space:pre-wrap;background:#f6f6f6;padding:1rem}article{border-bottom:1px solid #ddd}</style>"
        f"</head><body>{body}</body></html>",
        status_code=status,
    )


async def _turn_mail_off(services: Services, token: str) -> str | None:
    """Turns the member's mail for the room off; returns the room title, or None for a bad link."""
    found = read_unsubscribe_token(services.settings.secret, token)
    if found is None:
        return None
    room_id, account_id = found
    async with services.transaction() as tx:
        member = await membership(tx, room_id, account_id)
        if member is None:
            return None
        member.email_notifications = False
        room = await tx.session.get(Room, room_id)
        return room.title if room else ""


async def unsubscribe(request: Request) -> Response:
    """GET shows a button (link scanners follow GETs); POST is the RFC 8058 one-click."""
    services = services_of(request)
    token = path_param(request, "token")
    if request.method == "POST":
        title = await _turn_mail_off(services, token)
        if title is None:
            return _page("Unknown link", "<p>This unsubscribe link is not valid.</p>", 404)
        return _page("Mail turned off", f"<p>You will get no more mail from \u201c{html.escape(title)}\u201d. "
                     "You can turn it back on in the room.</p>")
    if read_unsubscribe_token(services.settings.secret, token) is None:
        return _page("Unknown link", "<p>This unsubscribe link is not valid.</p>", 404)
    return _page("Stop mail from this room",
                 '<form method="post"><p>Stop mail from this room?</p><button type="submit">Stop mail</button></form>')


@signed_in
async def revoke_reply_address(request: Request, services: Services, account: Account) -> Response:
    """The member's reply+token address for the room stops working; the next mail carries a new one."""
    room_id = path_param(request, "room")
    async with services.transaction() as tx:
        await seat(tx, room_id, account)
        revoked = await tokens.revoke_member_tokens(tx, room_id, account.id)
    return ok({"revoked": revoked})


async def dev_mailbox(request: Request) -> Response:
    services = services_of(request)
    if services.settings.smtp_url:
        raise ApiError(404, "not_found", "The dev mailbox exists only when SMTP_URL is not set.")
    folder = Path(services.settings.var_dir) / "mailbox"
    files = sorted(folder.glob("*.eml"), reverse=True)[:MAILBOX_PAGE_SIZE] if folder.exists() else []
    parts = [f"<h1>Dev mailbox</h1><p>{len(files)} newest mails sent by this server "
             "(SMTP_URL is not set, so mail is kept here instead of sent).</p>"]
    for path in files:
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        plain = message.get_body(("plain",))
        text = plain.get_content() if plain is not None else ""
        if not text:
            rich = message.get_body(("html",))
            text = html_to_text(rich.get_content()) if rich is not None else ""
        parts.append(
            "<article>"
            f"<h3>{html.escape(str(message['Subject'] or '').strip())}</h3>"
            f"<p>To: {html.escape(str(message['To'] or ''))}<br>Reply-To: {html.escape(str(message['Reply-To'] or ''))}"
            f"<br>Date: {html.escape(str(message['Date'] or ''))}</p><pre>{html.escape(text)}</pre></article>"
        )
    return _page("Dev mailbox", "".join(parts))


routes = [
    Route("/email/unsubscribe/{token}", unsubscribe, methods=["GET", "POST"]),
    Route("/api/rooms/{room}/email/reply-address/revoke", revoke_reply_address, methods=["POST"]),
    Route("/dev/mailbox", dev_mailbox, methods=["GET"]),
]
