"""HTTP endpoints for feedback, private comments and work history (API.md, "Money, terms, lifecycle")."""

from __future__ import annotations

from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from workroom.accounts import Account
from workroom.clock import isoformat, parse_iso
from workroom.errors import invalid, not_found
from workroom.feedback import commands
from workroom.feedback.views import request_views, room_feedback, work_history
from workroom.http import idempotency_key, json_body, ok, page_limit, path_param, signed_in
from workroom.rooms.access import seat
from workroom.rooms.routes import _source, event_response
from workroom.services import Services


@signed_in
async def leave_feedback(request: Request, services: Services, account: Account) -> Response:
    body = await json_body(request)
    event = await commands.leave_feedback(
        services, account, path_param(request, "room"), body.int("rating", minimum=1, maximum=5),
        body.str("comment", max_len=services.settings.max_message_chars), body.bool("hide_job_details"),
        client_id=idempotency_key(request, body), source=_source(request))
    return event_response(event)


@signed_in
async def request_feedback(request: Request, services: Services, account: Account) -> Response:
    return event_response(await commands.request_feedback(services, account, path_param(request, "room"),
                                                          source=_source(request)))


@signed_in
async def list_feedback(request: Request, services: Services, account: Account) -> Response:
    async with services.transaction() as tx:
        the_seat = await seat(tx, path_param(request, "room"), account)
        room = the_seat.room
        mid = await commands.mid_contract_check(tx, services, room)
        final = await commands.final_check(tx, services, room)
        return ok({
            "room": room.id, "feedback": await room_feedback(tx, room.id), "requests": await request_views(tx, room.id),
            "eligibility": {"mid_contract": {"eligible": not mid, "unmet": [u.public() for u in mid]},
                            "final": {"eligible": not final, "unmet": [u.public() for u in final]}},
        })


def _comment_view(comment: commands.PrivateComment) -> dict[str, object]:
    return {"id": comment.id, "room": comment.room_id, "author": comment.author_id, "subject": comment.subject_id,
            "body": comment.body, "created_at": isoformat(comment.created_at), "visibility": "staff"}


@signed_in
async def add_private_comment(request: Request, services: Services, account: Account) -> Response:
    body = await json_body(request)
    comment = await commands.add_private_comment(services, account, path_param(request, "room"),
                                                 body.str("body", max_len=services.settings.max_message_chars))
    return ok(_comment_view(comment), status=201)


@signed_in
async def list_private_comments(request: Request, services: Services, account: Account) -> Response:
    comments = await commands.private_comments(services, account, path_param(request, "room"))
    return ok({"comments": [_comment_view(c) for c in comments]})


@signed_in
async def account_work_history(request: Request, services: Services, account: Account) -> Response:
    limit, after = page_limit(request, services, 50), _cursor(request.query_params.get("after"))
    async with services.transaction() as tx:
        subject = await tx.session.get(Account, path_param(request, "account"))
        if subject is None or subject.kind == "service":
            raise not_found("account")
        return ok(await work_history(tx, subject, limit=limit, after=after))


def _cursor(raw: str | None) -> tuple[datetime, str] | None:
    """`after`: the `next` of the page before (when the contract started, and its room)."""
    if raw is None:
        return None
    started, _, room_id = raw.rpartition("|")
    try:
        return parse_iso(started), room_id
    except ValueError:
        raise invalid("after", "must be the `next` of the page before") from None


routes = [
    Route("/api/rooms/{room}/feedback", leave_feedback, methods=["POST"]),
    Route("/api/rooms/{room}/feedback", list_feedback, methods=["GET"]),
    Route("/api/rooms/{room}/feedback/request", request_feedback, methods=["POST"]),
    Route("/api/rooms/{room}/private-comments", add_private_comment, methods=["POST"]),
    Route("/api/rooms/{room}/private-comments", list_private_comments, methods=["GET"]),
    Route("/api/accounts/{account}/work-history", account_work_history, methods=["GET"]),
]
