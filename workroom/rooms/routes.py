"""HTTP endpoints of API.md's "Rooms and the record" section (and room status changes)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from workroom.accounts import Account
from workroom.errors import ApiError, invalid, not_found
from workroom.http import idempotency_key, json_body, ok, page_limit, path_param, query_int, signed_in
from workroom.rooms import commands, lifecycle
from workroom.rooms.access import require_service, seat
from workroom.rooms.files import keep_file, receive_upload
from workroom.rooms.log import StoredEvent
from workroom.rooms.models import Archive, Member, Room, RoomFile
from workroom.rooms.record import export_room
from workroom.rooms.views import room_summary, room_view
from workroom.services import Services


def event_response(event: StoredEvent, status: int = 201) -> Response:
    # The stored envelope text is the body: no re-serialising, byte-identical to what sockets get.
    return Response(event.envelope, status_code=200 if event.replayed else status, media_type="application/json")


@signed_in
async def me(request: Request, services: Services, account: Account) -> Response:
    return ok(account.public())


@signed_in
async def create_room(request: Request, services: Services, account: Account) -> Response:
    require_service(account)
    body = await json_body(request)
    limit = services.settings.max_title_chars
    kind = body.str("kind", choices=("fixed", "hourly"))
    currency = body.str("currency", max_len=3, min_len=3)
    if not currency.isalpha() or not currency.isupper():
        raise invalid("currency", "must be an ISO 4217 code such as USD")
    parties = []
    for role in ("client", "freelancer"):
        party = body.object(role)
        assert party is not None
        parties.append(commands.NewParty(email=party.email("email"), name=party.str("name", max_len=200)))
    milestones = []
    for item in body.objects("milestones", max_items=100):
        milestones.append(commands.NewMilestone(
            title=item.str("title", max_len=limit), amount=item.int("amount", minimum=1, maximum=10**12),
            due_date=item.date("due_date")))
    if kind == "hourly" and milestones:
        raise invalid("milestones", "hourly jobs have no escrow milestones")
    spec = commands.NewRoom(
        title=body.str("title", max_len=limit), kind=kind, currency=currency,
        client=parties[0], freelancer=parties[1], job_ref=body.str("job_ref", required=False, max_len=200),
        status=body.str("status", required=False, default="working", choices=("proposal", "working")),
        invite_only=body.bool("invite_only"),
        hourly_rate=body.int("hourly_rate", required=kind == "hourly", minimum=1, maximum=10**9),
        weekly_limit_hours=body.int("weekly_limit_hours", required=False, minimum=1, maximum=168),
        milestones=tuple(milestones),
    )
    room = await commands.create_room(services, account, spec)
    async with services.transaction() as tx:
        fresh = await tx.session.get(Room, room.id)
        assert fresh is not None
        return ok(await room_view(tx, fresh, None), status=201)


@signed_in
async def list_rooms(request: Request, services: Services, account: Account) -> Response:
    archived = request.query_params.get("archived", "false").lower()
    if archived not in ("true", "false"):
        raise invalid("archived", "must be true or false")
    async with services.transaction() as tx:
        rows = (await tx.session.execute(
            select(Room, Archive.room_id)
            .join(Member, Member.room_id == Room.id)
            .outerjoin(Archive, (Archive.room_id == Room.id) & (Archive.account_id == account.id))
            .where(Member.account_id == account.id, Member.removed_at.is_(None))
            .order_by(Room.last_event_at.desc(), Room.id)
        )).all()
        rooms = [room for room, archived_id in rows if (archived_id is not None) == (archived == "true")]
        unread = await commands.unread_counts(tx, account.id, [r.id for r in rooms])
        return ok({"rooms": [dict(room_summary(r), unread=unread.get(r.id, 0), archived=archived == "true")
                             for r in rooms]})


@signed_in
async def get_room(request: Request, services: Services, account: Account) -> Response:
    async with services.transaction() as tx:
        the_seat = await seat(tx, path_param(request, "room"), account)
        return ok(await room_view(tx, the_seat.room, the_seat.member))


async def _archive(request: Request, services: Services, account: Account, archived: bool) -> Response:
    body = await json_body(request)
    ids = body.list("rooms", required=True, max_items=500)
    if not ids or not all(isinstance(i, str) for i in ids):
        raise invalid("rooms", "must be a non-empty list of room ids")
    done = await commands.set_archived(services, account, ids, archived)
    return ok({"rooms": done, "archived": archived})


@signed_in
async def archive(request: Request, services: Services, account: Account) -> Response:
    return await _archive(request, services, account, True)


@signed_in
async def unarchive(request: Request, services: Services, account: Account) -> Response:
    return await _archive(request, services, account, False)


@signed_in
async def add_member(request: Request, services: Services, account: Account) -> Response:
    body = await json_body(request)
    event = await commands.add_member(
        services, account, path_param(request, "room"), body.email("email"), body.str("name", max_len=200),
        body.str("role", choices=("team", "guest")), body.datetime("expires_at"))
    return event_response(event)


@signed_in
async def remove_member(request: Request, services: Services, account: Account) -> Response:
    event = await commands.remove_member(services, account, path_param(request, "room"),
                                         path_param(request, "account"))
    return event_response(event, status=200)


@signed_in
async def update_my_membership(request: Request, services: Services, account: Account) -> Response:
    body = await json_body(request)
    member = await commands.set_email_notifications(services, account, path_param(request, "room"),
                                                    body.bool("email_notifications", required=True))
    return ok({"email_notifications": member.email_notifications})


@signed_in
async def list_events(request: Request, services: Services, account: Account) -> Response:
    since, limit = query_int(request, "since", 0), page_limit(request, services, 100)
    async with services.transaction() as tx:
        the_seat = await seat(tx, path_param(request, "room"), account)
        events = await services.log.read(tx.session, the_seat.room.id, since, limit)
    body = '{"events":[' + ",".join(e.envelope for e in events) + '],"next_since":' + \
        str(events[-1].seq if events else since) + "}"
    return Response(body, media_type="application/json")


@signed_in
async def post_message(request: Request, services: Services, account: Account) -> Response:
    body = await json_body(request)
    text = body.data.get("body", "")
    if not isinstance(text, str):
        raise invalid("body", "must be a string")
    files = body.list("files", max_items=20)
    if not all(isinstance(f, str) for f in files):
        raise invalid("files", "must be a list of file ids")
    event = await commands.post_message(services, account, path_param(request, "room"), text, files=files,
                                        client_id=idempotency_key(request, body), source=_source(request))
    return event_response(event)


def _source(request: Request) -> str:
    """Bearer-token callers are scripts and the marketplace (`api`); cookie sessions are the page."""
    return "api" if request.headers.get("authorization") else "web"


@signed_in
async def upload_file(request: Request, services: Services, account: Account) -> Response:
    room_id = path_param(request, "room")
    async with services.transaction() as tx:
        await seat(tx, room_id, account)  # members only, checked before a byte is read
    settings = services.settings
    received = await receive_upload(request, settings.upload_dir / "incoming", settings.max_upload_bytes)
    row = await keep_file(services, account, room_id, received)
    return ok(row.public(), status=201)


@signed_in
async def download_file(request: Request, services: Services, account: Account) -> Response:
    async with services.transaction() as tx:
        row = await tx.session.get(RoomFile, path_param(request, "file"))
        if row is None:
            raise not_found("file")
        try:
            await seat(tx, row.room_id, account)
        except ApiError as error:
            raise not_found("file") if error.status == 404 else error
    return FileResponse(row.storage_path, filename=row.name, content_disposition_type="attachment",
                        media_type=row.content_type,
                        headers={"X-Content-Type-Options": "nosniff",
                                 "Content-Security-Policy": "default-src 'none'; sandbox"})


@signed_in
async def submit_status_report(request: Request, services: Services, account: Account) -> Response:
    body = await json_body(request)
    reports = []
    for item in body.objects("milestones", max_items=100):
        reports.append((item.str("id", max_len=64), item.int("percent_complete", minimum=0, maximum=100),
                        item.bool("add_to_billing")))
    event = await commands.submit_status_report(
        services, account, path_param(request, "room"), body.str("summary", max_len=services.settings.max_message_chars),
        reports, client_id=idempotency_key(request, body), source=_source(request))
    return event_response(event)


@signed_in
async def invite_to_meeting(request: Request, services: Services, account: Account) -> Response:
    body = await json_body(request)
    event = await commands.invite_to_meeting(
        services, account, path_param(request, "room"), body.str("invitee", max_len=64),
        body.datetime("proposed_at"), body.str("note", required=False, max_len=2000), source=_source(request))
    return event_response(event)


@signed_in
async def respond_to_meeting(request: Request, services: Services, account: Account) -> Response:
    body = await json_body(request)
    accept = body.bool("accept", required=True)
    event = await commands.respond_to_meeting(services, account, path_param(request, "room"),
                                              path_param(request, "meeting"), accept, source=_source(request))
    return event_response(event, status=200)


@signed_in
async def mark_read(request: Request, services: Services, account: Account) -> Response:
    body = await json_body(request)
    # Through the hub, so the account's open tabs show the new unread count too.
    marker, unread = await request.app.state.hub.mark_read(account, path_param(request, "room"),
                                                           body.int("seq", minimum=0))
    return ok({"seq": marker, "unread": unread})


@signed_in
async def export(request: Request, services: Services, account: Account) -> Response:
    async with services.transaction() as tx:
        the_seat = await seat(tx, path_param(request, "room"), account)
        document = await export_room(tx.session, the_seat.room, await room_view(tx, the_seat.room, None))
    return ok(document)


@signed_in
async def support_join(request: Request, services: Services, account: Account) -> Response:
    return event_response(await commands.support_join(services, account, path_param(request, "room"),
                                                      source=_source(request)))


def _status_change(action: Any) -> Any:
    @signed_in
    async def endpoint(request: Request, services: Services, account: Account) -> Response:
        return event_response(await action(services, account, path_param(request, "room"), source=_source(request)),
                              status=200)

    endpoint.__name__ = action.__name__
    return endpoint


@signed_in
async def cancel_job(request: Request, services: Services, account: Account) -> Response:
    body = await json_body(request)
    reason = body.str("reason", max_len=services.settings.max_message_chars)
    events = await lifecycle.cancel_job(services, account, path_param(request, "job_ref"), reason,
                                        source=_source(request))
    return ok({"job_ref": path_param(request, "job_ref"), "status": "cancelled",
               "rooms": [event.room_id for event in events], "events": [event.as_dict() for event in events]})


routes = [
    Route("/api/me", me, methods=["GET"]),
    Route("/api/rooms", create_room, methods=["POST"]),
    Route("/api/rooms", list_rooms, methods=["GET"]),
    Route("/api/rooms/archive", archive, methods=["POST"]),
    Route("/api/rooms/unarchive", unarchive, methods=["POST"]),
    Route("/api/rooms/{room}", get_room, methods=["GET"]),
    Route("/api/rooms/{room}/members", add_member, methods=["POST"]),
    Route("/api/rooms/{room}/members/me", update_my_membership, methods=["PATCH"]),
    Route("/api/rooms/{room}/members/{account}", remove_member, methods=["DELETE"]),
    Route("/api/rooms/{room}/events", list_events, methods=["GET"]),
    Route("/api/rooms/{room}/messages", post_message, methods=["POST"]),
    Route("/api/rooms/{room}/files", upload_file, methods=["POST"]),
    Route("/api/files/{file}", download_file, methods=["GET"]),
    Route("/api/rooms/{room}/status-reports", submit_status_report, methods=["POST"]),
    Route("/api/rooms/{room}/meetings", invite_to_meeting, methods=["POST"]),
    Route("/api/rooms/{room}/meetings/{meeting}/respond", respond_to_meeting, methods=["POST"]),
    Route("/api/rooms/{room}/read", mark_read, methods=["POST"]),
    Route("/api/rooms/{room}/export", export, methods=["GET"]),
    Route("/api/rooms/{room}/support/join", support_join, methods=["POST"]),
    Route("/api/rooms/{room}/award", _status_change(lifecycle.award), methods=["POST"]),
    Route("/api/rooms/{room}/complete", _status_change(lifecycle.complete), methods=["POST"]),
    Route("/api/rooms/{room}/reopen", _status_change(lifecycle.reopen), methods=["POST"]),
    Route("/api/jobs/{job_ref}/cancel", cancel_job, methods=["POST"]),
]
