"""HTTP endpoints for support cases: open one on a room, act on it, read it (staff only)."""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from workroom.accounts import Account
from workroom.errors import not_found
from workroom.http import idempotency_key, json_body, ok, path_param, signed_in
from workroom.rooms.access import require_staff
from workroom.rooms.models import Room
from workroom.rooms.routes import _source, event_response
from workroom.services import Services
from workroom.support import commands
from workroom.support.models import APPROVALS, SupportCase

PARTIES = ("client", "freelancer")
MAX_AMOUNT = 10**12


@signed_in
async def open_case(request: Request, services: Services, account: Account) -> Response:
    body = await json_body(request)
    limit = services.settings.max_message_chars
    case, event = await commands.open_case(
        services, account, path_param(request, "room"), body.str("complaint", max_len=limit),
        body.str("wants", max_len=limit), body.int("disputed_amount", minimum=0, maximum=MAX_AMOUNT),
        source=_source(request))
    async with services.transaction() as tx:
        fresh = await tx.session.get(SupportCase, case.id)
        assert fresh is not None
        view = await commands.case_view(tx, services, fresh, fresh_research=False)
    return ok(dict(view, event=event.as_dict()), status=201)


@signed_in
async def get_case(request: Request, services: Services, account: Account) -> Response:
    require_staff(account)
    async with services.transaction() as tx:
        case = await tx.session.get(SupportCase, path_param(request, "case"))
        if case is None:
            raise not_found("case")
        return ok(await commands.case_view(tx, services, case))


@signed_in
async def list_cases(request: Request, services: Services, account: Account) -> Response:
    require_staff(account)
    async with services.transaction() as tx:
        if await tx.session.get(Room, path_param(request, "room")) is None:
            raise not_found()
        cases = (await tx.session.scalars(select(SupportCase).where(SupportCase.room_id == path_param(request, "room"))
                                          .order_by(SupportCase.opened_at))).all()
        return ok({"cases": [await commands.case_view(tx, services, c, fresh_research=False) for c in cases]})


@signed_in
async def outreach(request: Request, services: Services, account: Account) -> Response:
    body = await json_body(request)
    return event_response(await commands.log_outreach(
        services, account, path_param(request, "case"), body.str("party", choices=PARTIES),
        body.str("channel", max_len=50), body.bool("responded", required=True),
        body.str("note", required=False, max_len=2000), source=_source(request)))


@signed_in
async def relay(request: Request, services: Services, account: Account) -> Response:
    body = await json_body(request)
    return event_response(await commands.relay(
        services, account, path_param(request, "case"), body.str("party", choices=PARTIES),
        body.str("body", max_len=services.settings.max_message_chars), client_id=idempotency_key(request, body),
        source=_source(request)))


@signed_in
async def credit(request: Request, services: Services, account: Account) -> Response:
    body = await json_body(request)
    return event_response(await commands.grant_credit(
        services, account, path_param(request, "case"), body.int("amount", required=False, minimum=1, maximum=MAX_AMOUNT),
        client_id=idempotency_key(request, body), source=_source(request)))


@signed_in
async def approve(request: Request, services: Services, account: Account) -> Response:
    body = await json_body(request)
    what = body.str("what", choices=APPROVALS)
    return event_response(await commands.approve(
        services, account, path_param(request, "case"), what,
        body.int("amount", required=False, minimum=1, maximum=MAX_AMOUNT),
        body.str("party", required=False, choices=PARTIES), source=_source(request)))


@signed_in
async def contact_details(request: Request, services: Services, account: Account) -> Response:
    body = await json_body(request)
    return event_response(await commands.release_contact_details(
        services, account, path_param(request, "case"), body.str("party", choices=PARTIES), source=_source(request)))


def _ending(status: str):  # type: ignore[no-untyped-def]
    @signed_in
    async def endpoint(request: Request, services: Services, account: Account) -> Response:
        body = await json_body(request)
        return event_response(await commands.end_case(
            services, account, path_param(request, "case"), status,
            body.str("outcome", max_len=services.settings.max_message_chars), source=_source(request)), status=200)

    endpoint.__name__ = f"case_{status}"
    return endpoint


routes = [
    Route("/api/rooms/{room}/cases", open_case, methods=["POST"]),
    Route("/api/rooms/{room}/cases", list_cases, methods=["GET"]),
    Route("/api/cases/{case}", get_case, methods=["GET"]),
    Route("/api/cases/{case}/outreach", outreach, methods=["POST"]),
    Route("/api/cases/{case}/relay", relay, methods=["POST"]),
    Route("/api/cases/{case}/credit", credit, methods=["POST"]),
    Route("/api/cases/{case}/approve", approve, methods=["POST"]),
    Route("/api/cases/{case}/contact-details", contact_details, methods=["POST"]),
    Route("/api/cases/{case}/resolve", _ending("resolved"), methods=["POST"]),
    Route("/api/cases/{case}/close", _ending("closed"), methods=["POST"]),
]
