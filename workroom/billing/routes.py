"""HTTP endpoints of API.md's "Money, terms, lifecycle" section that billing owns: milestones and
their actions, the payment gateway callback, terms changes, the ledger, the statement, the hourly
diary and invoices, and the cancellation of an active job."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from workroom.accounts import Account
from workroom.billing import cancellation, hourly, ledger, milestones, statement, terms
from workroom.billing.gateway import METHODS
from workroom.billing.models import Milestone, TermsProposal
from workroom.billing.views import milestone_view
from workroom.errors import ApiError, invalid
from workroom.http import idempotency_key, json_body, ok, path_param, signed_in
from workroom.rooms.access import Seat, seat
from workroom.rooms.routes import _source, event_response
from workroom.services import Services, Tx
from workroom.validation import Fields

from sqlalchemy import select

MONEY_VIEWERS = ("client", "freelancer", "team", "support")
MAX_AMOUNT = 10**12


async def _viewer(tx: Tx, request: Request, account: Account) -> Seat:
    the_seat = await seat(tx, path_param(request, "room"), account)
    the_seat.require(MONEY_VIEWERS, "see the job's money")
    return the_seat


@signed_in
async def list_milestones(request: Request, services: Services, account: Account) -> Response:
    async with services.transaction() as tx:
        the_seat = await _viewer(tx, request, account)
        rows = await tx.session.scalars(select(Milestone).where(Milestone.room_id == the_seat.room.id)
                                        .order_by(Milestone.position))
        return ok({"currency": the_seat.room.currency,
                   "milestones": [milestone_view(m, services.policy) for m in rows.all()]})


@signed_in
async def milestone_action(request: Request, services: Services, account: Account) -> Response:
    action = path_param(request, "action")
    body = await json_body(request)
    room_id, milestone_id = path_param(request, "room"), path_param(request, "milestone")
    common: dict[str, Any] = {"client_id": idempotency_key(request, body), "source": _source(request)}
    if action == "request-funding":
        event = await milestones.request_funding(services, account, room_id, milestone_id, **common)
    elif action == "fund":
        method = body.str("payment_method", required=False, default="verified", choices=METHODS)
        event = await milestones.fund(services, account, room_id, milestone_id, method, **common)
    elif action == "request-release":
        event = await milestones.request_release(services, account, room_id, milestone_id, **common)
    elif action == "void-release":
        event = await milestones.void_release(services, account, room_id, milestone_id, **common)
    elif action == "release":
        amount = body.int("amount", required=False, minimum=1, maximum=MAX_AMOUNT)
        event = await milestones.release(services, account, room_id, milestone_id, amount, **common)
    elif action == "dispute":
        why = body.str("reason", max_len=services.settings.max_message_chars)
        event = await milestones.dispute(services, account, room_id, milestone_id, why, **common)
    elif action == "refund":
        amount = body.int("amount", required=False, minimum=1, maximum=MAX_AMOUNT)
        why = body.str("reason", max_len=services.settings.max_message_chars)
        event = await milestones.refund(services, account, room_id, milestone_id, amount, why, **common)
    else:
        raise ApiError(404, "unknown_action", f"There is no milestone action {action!r}.")
    return event_response(event)


@signed_in
async def payment_verified(request: Request, services: Services, account: Account) -> Response:
    payment = await milestones.payment_verified(services, account, path_param(request, "payment"))
    return ok(payment.public())


@signed_in
async def show_ledger(request: Request, services: Services, account: Account) -> Response:
    async with services.transaction() as tx:
        the_seat = await _viewer(tx, request, account)
        lines = await ledger.journal(tx.session, the_seat.room.id)
        return ok({"currency": the_seat.room.currency, "postings": [line.public() for line in lines],
                   "balances": ledger.replay(lines)})


@signed_in
async def show_statement(request: Request, services: Services, account: Account) -> Response:
    fmt = request.query_params.get("format", "json")
    if fmt not in ("json", "html"):
        raise invalid("format", "must be json or html")
    async with services.transaction() as tx:
        the_seat = await _viewer(tx, request, account)
        document = await statement.build(tx, the_seat.room)
    if fmt == "html":
        return HTMLResponse(statement.render_html(document),
                            headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})
    return ok(document)


def _terms_change(body: Fields, max_title: int) -> terms.TermsChange:
    items = None
    if body.data.get("milestones") is not None:
        items = tuple(terms.MilestoneTerms(
            id=item.str("id", required=False, max_len=64), title=item.str("title", max_len=max_title),
            amount=item.int("amount", minimum=1, maximum=MAX_AMOUNT), due_date=item.date("due_date"))
            for item in body.objects("milestones", max_items=100))
    return terms.TermsChange(
        milestones=items, hourly_rate=body.int("hourly_rate", required=False, minimum=1, maximum=10**9),
        weekly_limit_hours=body.int("weekly_limit_hours", required=False, minimum=1, maximum=168),
        note=body.str("note", required=False, max_len=2000))


@signed_in
async def propose_terms(request: Request, services: Services, account: Account) -> Response:
    body = await json_body(request)
    event = await terms.propose(services, account, path_param(request, "room"),
                                _terms_change(body, services.settings.max_title_chars),
                                client_id=idempotency_key(request, body), source=_source(request))
    return event_response(event)


@signed_in
async def list_terms(request: Request, services: Services, account: Account) -> Response:
    async with services.transaction() as tx:
        the_seat = await _viewer(tx, request, account)
        rows = await tx.session.scalars(select(TermsProposal).where(TermsProposal.room_id == the_seat.room.id)
                                        .order_by(TermsProposal.created_at))
        return ok({"proposals": [p.public() for p in rows.all()]})


def _answer_terms(accept: bool) -> Any:
    @signed_in
    async def endpoint(request: Request, services: Services, account: Account) -> Response:
        event = await terms.answer(services, account, path_param(request, "room"), path_param(request, "terms"),
                                   accept, source=_source(request))
        return event_response(event, status=200)

    return endpoint


@signed_in
async def log_time(request: Request, services: Services, account: Account) -> Response:
    body = await json_body(request)
    start, end = body.datetime("start", required=True), body.datetime("end", required=True)
    assert start is not None and end is not None
    snapshots = body.list("snapshots", max_items=200)
    if not all(isinstance(s, dict) for s in snapshots):
        raise invalid("snapshots", "must be a list of objects (time, keystrokes, mouse counts…)")
    event = await hourly.log_time(services, account, path_param(request, "room"), start, end,
                                  body.str("memo", max_len=2000), snapshots,
                                  client_id=idempotency_key(request, body), source=_source(request))
    return event_response(event)


@signed_in
async def list_invoices(request: Request, services: Services, account: Account) -> Response:
    async with services.transaction() as tx:
        the_seat = await _viewer(tx, request, account)
        return ok({"currency": the_seat.room.currency, "invoices": await hourly.invoices(tx, the_seat.room.id)})


@signed_in
async def invoice_action(request: Request, services: Services, account: Account) -> Response:
    action = path_param(request, "action")
    body = await json_body(request)
    room_id, invoice_id = path_param(request, "room"), path_param(request, "invoice")
    common: dict[str, Any] = {"client_id": idempotency_key(request, body), "source": _source(request)}
    if action == "approve":
        event = await hourly.approve(services, account, room_id, invoice_id,
                                     include_disputed=body.bool("include_disputed"), **common)
    elif action == "dispute":
        hours = body.data.get("hours")
        if isinstance(hours, bool) or not isinstance(hours, (int, float)):
            raise invalid("hours", "must be a number of hours")
        why = body.str("reason", max_len=services.settings.max_message_chars)
        event = await hourly.dispute(services, account, room_id, invoice_id, float(hours), why, **common)
    elif action == "concede":
        event = await hourly.concede(services, account, room_id, invoice_id, **common)
    else:
        raise ApiError(404, "unknown_action", f"There is no invoice action {action!r}.")
    return event_response(event, status=200)


@signed_in
async def cancel_job(request: Request, services: Services, account: Account) -> Response:
    body = await json_body(request)
    event = await cancellation.request(
        services, account, path_param(request, "room"), body.str("reason", max_len=services.settings.max_message_chars),
        body.int("refund", required=False, minimum=0, maximum=MAX_AMOUNT),
        client_id=idempotency_key(request, body), source=_source(request))
    return event_response(event)


@signed_in
async def confirm_cancel(request: Request, services: Services, account: Account) -> Response:
    return event_response(await cancellation.confirm(services, account, path_param(request, "room"),
                                                     source=_source(request)), status=200)


@signed_in
async def reject_cancel(request: Request, services: Services, account: Account) -> Response:
    return event_response(await cancellation.reject(services, account, path_param(request, "room"),
                                                    source=_source(request)), status=200)


routes = [
    Route("/api/rooms/{room}/milestones", list_milestones, methods=["GET"]),
    Route("/api/rooms/{room}/milestones/{milestone}/{action}", milestone_action, methods=["POST"]),
    Route("/api/payments/{payment}/verified", payment_verified, methods=["POST"]),
    Route("/api/rooms/{room}/ledger", show_ledger, methods=["GET"]),
    Route("/api/rooms/{room}/statement", show_statement, methods=["GET"]),
    Route("/api/rooms/{room}/terms", propose_terms, methods=["POST"]),
    Route("/api/rooms/{room}/terms", list_terms, methods=["GET"]),
    Route("/api/rooms/{room}/terms/{terms}/accept", _answer_terms(True), methods=["POST"]),
    Route("/api/rooms/{room}/terms/{terms}/decline", _answer_terms(False), methods=["POST"]),
    Route("/api/rooms/{room}/timesheet", log_time, methods=["POST"]),
    Route("/api/rooms/{room}/invoices", list_invoices, methods=["GET"]),
    Route("/api/rooms/{room}/invoices/{invoice}/{action}", invoice_action, methods=["POST"]),
    Route("/api/rooms/{room}/cancel", cancel_job, methods=["POST"]),
    Route("/api/rooms/{room}/cancel/confirm", confirm_cancel, methods=["POST"]),
    Route("/api/rooms/{room}/cancel/reject", reject_cancel, methods=["POST"]),
]
