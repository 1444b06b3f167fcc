"""One `/ws` connection: reads ops, answers them, and writes frames from its bounded queue.

Ops are handled one at a time, in order, each checking the caller's membership of the room it
names through the same core commands the HTTP API uses. Replies echo the op's `id`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timedelta
from typing import Any

from starlette.types import Message
from starlette.websockets import WebSocket, WebSocketDisconnect

from workroom.accounts import Account
from workroom.channels.feed import Subscription
from workroom.channels.frames import OutFrame, Outgoing, error_frame, frame
from workroom.channels.hub import Hub
from workroom.channels.outlet import Outlet
from workroom.reads import reading
from workroom.channels.send_queue import SendQueue
from workroom.rate_limit import RateLimiter
from workroom.clock import SystemClock
from workroom.errors import ApiError
from workroom.rooms import commands
from workroom.rooms.access import seat
from workroom.services import Services

log = logging.getLogger(__name__)

NOT_AUTHENTICATED, NOT_ALLOWED, TOO_SLOW, RATE_LIMITED, TOO_LARGE, SERVER_ERROR = 4001, 4003, 4008, 4029, 1009, 1011
TYPING_EVERY = timedelta(seconds=2)
WALL = SystemClock()


class SocketSession:
    """One task per socket (the server's own): it reads and answers ops. Frames are written by
    whoever produces them, straight through the outlet while the socket keeps up; a drain task
    exists only while frames are queued."""

    __slots__ = ("websocket", "outlet", "services", "hub", "account_id", "actor", "queue", "subs",
                 "post_limit", "op_limit", "max_frame", "typed_at", "close_code", "expires_at", "_roomy",
                 "_task", "_drain", "_giving_up")

    def __init__(self, websocket: WebSocket, outlet: Outlet, services: Services, hub: Hub,
                 account: Account, expires_at: datetime) -> None:
        settings = services.settings
        self.websocket = websocket
        self.outlet = outlet
        self.services = services
        self.hub = hub
        self.account_id = account.id
        self.actor = {"id": account.id, "name": account.name}
        self.queue = SendQueue(settings.ws_send_queue_bytes)
        self.subs: dict[str, Subscription] = {}
        window = timedelta(seconds=settings.ws_rate_window_seconds)
        # Flood limits and the typing throttle are about real elapsed time, not the product's
        # clock: a frozen test clock must not make a socket's window never slide.
        self.post_limit = RateLimiter(WALL, settings.ws_posts_per_window, window)
        self.op_limit = RateLimiter(WALL, settings.ws_ops_per_window, window)
        self.max_frame = settings.ws_max_frame_bytes
        self.typed_at: dict[str, Any] | None = None
        self.close_code: int | None = None
        self.expires_at = expires_at        # of the token or session cookie it signed in with
        self._roomy: asyncio.Event | None = None        # made only when a backlog page must wait
        self._task: asyncio.Task[Any] | None = None
        self._drain: asyncio.Task[None] | None = None
        self._giving_up = False

    @property
    def queued_bytes(self) -> int:
        return self.queue.bytes

    # what the feeds call -------------------------------------------------------------------------
    def send_event(self, frame: Outgoing) -> None:
        if self._drain is None and self.outlet.try_write(frame):
            return
        if self.queue.put(frame):
            self._start_draining()
        else:
            self._give_up(TOO_SLOW)

    def send_ephemeral(self, frame: OutFrame) -> None:
        if self._drain is None and self.outlet.try_write(frame):
            return
        if self.queue.put(frame, ephemeral=True):
            self._start_draining()

    def _start_draining(self) -> None:
        """Frames are queued: one drain task writes them as the socket takes them."""
        if self._drain is None and self.close_code is None:
            self._drain = asyncio.get_running_loop().create_task(self._drain_queue())

    def reply(self, text: str) -> None:
        self.send_event(OutFrame(text))

    def lose_room(self, room_id: str, code: str, message: str) -> None:
        sub = self.subs.pop(room_id, None)
        if sub is not None:
            asyncio.get_running_loop().create_task(self.hub.leave(sub))
            self.reply(error_frame(code, message, room=room_id))

    def check_expiry(self, now: datetime) -> None:
        """Run by the hub's health check, so a quiet socket is stopped too: past its credential's
        expiry it is closed (4001); past a guest's access it loses that room."""
        if now >= self.expires_at:
            self._give_up(NOT_AUTHENTICATED)
            return
        for room_id, sub in list(self.subs.items()):
            if sub.expires_at is not None and sub.expires_at <= now:
                self.lose_room(room_id, "access_expired", "Your guest access to this room has ended.")

    async def wait_roomy(self) -> None:
        while self.queue.bytes > self.queue.limit // 2 and self.close_code is None:
            if self._roomy is None:
                self._roomy = asyncio.Event()
            self._roomy.clear()
            await self._roomy.wait()

    def _give_up(self, code: int) -> None:
        if self.close_code is None:
            self.close_code = code
            if code == TOO_SLOW:
                self.hub.stats["closed_slow"] += 1
            if self._roomy is not None:
                self._roomy.set()
            task = self._task
            if task is not None and task is not asyncio.current_task():
                self._giving_up = True
                task.cancel()           # run() stops reading and closes with the code

    async def _drain_queue(self) -> None:
        queue, outlet = self.queue, self.outlet
        try:
            while self.close_code is None:
                frame = queue.pop()
                if frame is None:
                    return
                if not outlet.try_write(frame):
                    await outlet.write(frame)
                if self._roomy is not None and queue.bytes <= queue.limit // 2:
                    self._roomy.set()
        except Exception:
            return  # the client went away; the reader sees the disconnect
        finally:
            self._drain = None

    # the connection --------------------------------------------------------------------------------
    async def run(self) -> None:
        """Runs in the server's task for this connection: no task of its own (memory per idle
        connection is a goal, bench W1)."""
        self._task = asyncio.current_task()
        self.hub.sockets.add(self)
        task = self._task
        try:
            try:
                await self._read()
            except asyncio.CancelledError:
                # our own cancel from _give_up (a slow reader, seen while delivering); any other
                # cancel (the server shutting down) goes on up
                if not self._giving_up or task is None or task.uncancel() > 0:
                    raise
            finally:
                self._task = None              # not reading any more: nothing to interrupt
            if self.close_code is not None:
                await self._leave_all()        # stop feeding it before the (maybe slow) close
                await self._close(self.close_code)
        finally:
            if self._drain is not None:
                self._drain.cancel()
            self.hub.sockets.discard(self)
            peak = self.queue.peak_bytes
            if peak > self.hub.stats["peak_queued_bytes"]:
                self.hub.stats["peak_queued_bytes"] = peak
            await self._leave_all()

    async def _leave_all(self) -> None:
        subs, self.subs = list(self.subs.values()), {}
        for sub in subs:
            await self.hub.leave(sub)

    async def _close(self, code: int) -> None:
        reasons = {NOT_AUTHENTICATED: "signed out: your token or session expired",
                   TOO_SLOW: "too slow: reconnect and subscribe with since", RATE_LIMITED: "rate limited",
                   TOO_LARGE: "frame too large", SERVER_ERROR: "server error"}
        try:
            # a client that reads nothing cannot take even the close frame: do not wait forever
            await asyncio.wait_for(self.websocket.close(code, reasons.get(code, "")), timeout=5)
        except Exception:
            pass

    async def _read(self) -> None:
        receive = self.websocket.receive
        while await self._on_message(await receive()):
            pass

    async def _on_message(self, message: Message) -> bool:
        """Answer one client frame; False once the socket is done. (A method of its own, so the
        last op's text and dict are not kept alive while the socket idles.)"""
        if message["type"] == "websocket.disconnect":
            return False
        text = message.get("text")
        if text is None:
            if len(message.get("bytes") or b"") > self.max_frame:
                self._give_up(TOO_LARGE)
                return False
            self.reply(error_frame("binary_not_supported", "Send JSON text frames."))
            return True
        if len(text) > self.max_frame:
            self._give_up(TOO_LARGE)
            return False
        if not self.op_limit.allow("op"):
            self._give_up(RATE_LIMITED)
            return False
        if self.services.clock.now() >= self.expires_at:
            self._give_up(NOT_AUTHENTICATED)
            return False
        try:
            op = json.loads(text)
        except ValueError:
            self.reply(error_frame("bad_json", "That frame is not JSON."))
            return True
        if not isinstance(op, dict):
            self.reply(error_frame("bad_json", "A frame is a JSON object with an op."))
            return True
        try:
            await self._handle(op)
        except ApiError as error:
            fields = {"room": op["room"]} if isinstance(op.get("room"), str) else {}
            self.reply(error_frame(error.code, error.message, op.get("id"), **fields))
        except WebSocketDisconnect:
            return False
        except Exception:
            log.exception("op %.100s failed", text)
            self._give_up(SERVER_ERROR)
            return False
        return self.close_code is None

    # ops ---------------------------------------------------------------------------------------------
    async def _handle(self, op: dict[str, Any]) -> None:
        name, rid = op.get("op"), op.get("id")
        if name == "ping":
            self.reply(frame("pong", rid))
        elif name == "subscribe":
            await self._subscribe(_room(op), _optional_seq(op, "since"), rid)
        elif name == "unsubscribe":
            room_id = _room(op)
            sub = self.subs.pop(room_id, None)
            if sub is not None:
                await self.hub.leave(sub)
            self.reply(frame("unsubscribed", rid, room=room_id))
        elif name == "post":
            await self._post(op, rid)
        elif name == "typing":
            await self._typing(_room(op))
        elif name == "read":
            await self._read_marker(_room(op), _whole(op.get("seq"), "seq"), rid)
        else:
            raise ApiError(400, "unknown_op", "op must be one of subscribe, unsubscribe, post, typing, read, ping.")

    async def _subscribe(self, room_id: str, since: int | None, rid: Any) -> None:
        async with reading(self.services) as tx:
            the_seat = await seat(tx, room_id, _account_of(tx, self))
            head, expires_at, role = the_seat.room.head_seq, the_seat.member.expires_at, the_seat.role
        old = self.subs.pop(room_id, None)
        if old is not None:
            await self.hub.leave(old)
        sub = Subscription(self, room_id, {**self.actor, "role": role}, expires_at=expires_at)
        self.subs[room_id] = sub
        self.reply(frame("subscribed", rid, room=room_id, head=head))
        await self.hub.join(sub, since)

    async def _post(self, op: dict[str, Any], rid: Any) -> None:
        if not self.post_limit.allow("post"):
            self._give_up(RATE_LIMITED)
            return
        body, client_id = op.get("body", ""), op.get("client_id")
        if not isinstance(body, str):
            raise ApiError(422, "invalid_field", "body: must be a string")
        if client_id is not None and not isinstance(client_id, str):
            raise ApiError(422, "invalid_field", "client_id: must be a string")
        account = _account_of(None, self)
        event = await commands.post_message(self.services, account, _room(op), body, client_id=client_id,
                                            source="web")
        self.reply(frame("ack", rid, room=event.room_id, client_id=client_id, seq=event.seq))

    async def _typing(self, room_id: str) -> None:
        now = WALL.now()
        if self.typed_at is None:
            self.typed_at = {}
        last = self.typed_at.get(room_id)
        if last is not None and now - last < TYPING_EVERY:
            return                          # a typist announces at most every 2 s
        async with reading(self.services) as tx:
            await seat(tx, room_id, _account_of(tx, self))
        self.typed_at[room_id] = now
        await self.hub.typing(room_id, self.actor)

    async def _read_marker(self, room_id: str, seq: int, rid: Any) -> None:
        marker, unread = await self.hub.mark_read(_account_of(None, self), room_id, seq, origin=self)
        self.reply(frame("read", rid, room=room_id, seq=marker, unread=unread))


def _account_of(tx: Any, session: SocketSession) -> Account:
    """A detached stand-in for the signed-in account: the commands read only its id and name,
    so an op costs no extra query to load it."""
    return Account(id=session.account_id, name=session.actor["name"])


def _room(op: dict[str, Any]) -> str:
    room = op.get("room")
    if not isinstance(room, str) or not room:
        raise ApiError(422, "invalid_field", "room: a room id is required")
    return room


def _optional_seq(op: dict[str, Any], name: str) -> int | None:
    value = op.get(name)
    return None if value is None else _whole(value, name)


def _whole(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ApiError(422, "invalid_field", f"{name}: must be a whole number, 0 or more")
    return value
