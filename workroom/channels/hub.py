"""The hub of one process: room feeds, the broker listener's consumer, presence and typing.

A room has one feed per process and so one broker subscription per process, however many sockets
watch it. The dispatcher task reads everything the broker yields and hands it to the feeds; a
health task restarts a dead dispatcher, re-reads the log for any feed behind the room's head
(a publish lost while Redis was down is found here at the latest), and renews presence.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select

from workroom.channels.broker import RESUMED, room_channel
from workroom.channels.feed import RoomFeed, Socket, Subscription
from workroom.channels.frames import frame
from workroom.channels.presence import MemoryPresence, Presence, RedisPresence
from workroom.reads import reading
from workroom.errors import not_found
from workroom.ids import new_id
from workroom.rooms import commands
from workroom.rooms.models import Room

if TYPE_CHECKING:
    from workroom.accounts import Account
    from workroom.services import Services

log = logging.getLogger(__name__)

ROOM_PREFIX = room_channel("")
PRESENCE_SIGNAL = "~p"
READ_SIGNAL = "~r"          # + {"account", "origin", "frame"}: a read marker moved
# A room's head when its feed opens, and the open feeds' heads at each health check.
HEAD = select(Room.head_seq).where(Room.id == bindparam("room_id"))
HEADS = select(Room.id, Room.head_seq).where(Room.id.in_(bindparam("rooms", expanding=True)))


class Hub:
    def __init__(self, services: "Services") -> None:
        self.services = services
        self.broker = services.broker
        self.node = new_id("n")
        self.feeds: dict[str, RoomFeed] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.sockets: set[Any] = set()
        self.presence: Presence = self._make_presence()
        self.stats: dict[str, int] = {"events": 0, "gaps": 0, "filled": 0, "closed_slow": 0,
                                      "dispatcher_restarts": 0, "peak_queued_bytes": 0}
        self._dispatcher: asyncio.Task[None] | None = None
        self._health: asyncio.Task[None] | None = None

    def _make_presence(self) -> Presence:
        client = getattr(self.broker, "client", None)
        if client is None:
            return MemoryPresence()
        return RedisPresence(client, prefix=self.services.settings.redis_prefix, node=self.node,
                             ttl_seconds=self.services.settings.presence_ttl_seconds)

    # lifecycle ---------------------------------------------------------------------------------
    async def start(self) -> None:
        self._dispatcher = asyncio.create_task(self._dispatch(), name="hub-dispatcher")
        self._health = asyncio.create_task(self._check_health(), name="hub-health")

    async def stop(self) -> None:
        for task in (self._health, self._dispatcher):
            if task is not None:
                task.cancel()
        await asyncio.gather(*(t for t in (self._health, self._dispatcher) if t), return_exceptions=True)

    # sockets joining and leaving rooms ---------------------------------------------------------
    async def join(self, sub: Subscription, since: int | None) -> None:
        room_id = sub.room_id
        async with self._lock(room_id):
            feed = self.feeds.get(room_id)
            if feed is None:
                feed = RoomFeed(self, room_id)
                self.feeds[room_id] = feed          # buffers live events while it opens
                try:
                    await self.broker.subscribe(room_channel(room_id))   # confirmed before the head is read
                    async with reading(self.services) as tx:
                        head = await tx.session.scalar(HEAD, {"room_id": room_id})
                        if head is None:
                            raise not_found()
                        feed.opened(head)
                except BaseException:
                    self.feeds.pop(room_id, None)
                    await self._unsubscribe_quietly(room_id)
                    raise
            feed.attaching += 1
        try:
            await feed.attach(sub, since)
        finally:
            feed.attaching -= 1
        await self._count_in(feed, sub)

    async def leave(self, sub: Subscription) -> None:
        room_id = sub.room_id
        feed = self.feeds.get(room_id)
        if feed is None or sub not in feed.subs:
            return
        feed.detach(sub)
        await self._count_out(feed, sub.account["id"])
        async with self._lock(room_id):
            if feed.idle and self.feeds.get(room_id) is feed:
                del self.feeds[room_id]
                await self._unsubscribe_quietly(room_id)
        if not any(f.room_id == room_id for f in self.feeds.values()):
            self._locks.pop(room_id, None)

    def _lock(self, room_id: str) -> asyncio.Lock:
        return self._locks.setdefault(room_id, asyncio.Lock())

    async def _unsubscribe_quietly(self, room_id: str) -> None:
        try:
            await self.broker.unsubscribe(room_channel(room_id))
        except Exception as exc:
            log.warning("unsubscribing %s failed: %s", room_id, exc)

    async def wait_roomy(self, socket: Socket) -> None:
        """Let a socket's queue drain before the next backlog page (a long backlog is paced by
        the reader, not held in memory)."""
        waiter = getattr(socket, "wait_roomy", None)
        if waiter is not None:
            await waiter()

    # presence and typing -------------------------------------------------------------------------
    async def _count_in(self, feed: RoomFeed, sub: Subscription) -> None:
        account = {"id": sub.account["id"], "name": sub.account["name"]}
        before = feed.accounts.get(account["id"], 0)
        feed.accounts[account["id"]] = before + 1
        feed.names[account["id"]] = account
        if before == 0:
            await self._announce(feed, lambda: self.presence.join(feed.room_id, account))
        else:
            await feed.send_presence_to(sub)     # nobody else's view changed

    async def _count_out(self, feed: RoomFeed, account_id: str) -> None:
        left = feed.accounts.get(account_id, 0) - 1
        if left > 0:
            feed.accounts[account_id] = left
            return
        feed.accounts.pop(account_id, None)
        account = feed.names.pop(account_id, {"id": account_id, "name": ""})
        await self._announce(feed, lambda: self.presence.leave(feed.room_id, account))

    async def _announce(self, feed: RoomFeed, change: Any) -> None:
        try:
            await change()
            await self.broker.publish(room_channel(feed.room_id), PRESENCE_SIGNAL)
        except Exception as exc:  # Redis down: presence is best effort, the health check renews it
            log.warning("presence change in %s not announced: %s", feed.room_id, exc)
            feed.presence_changed()

    async def typing(self, room_id: str, actor: dict[str, str]) -> None:
        text = frame("typing", room=room_id, actor=actor)
        try:
            await self.broker.publish(room_channel(room_id), "~" + text)
        except Exception:
            pass  # typing is ephemeral: dropped while the broker is down

    async def mark_read(self, account: "Account", room_id: str, seq: int,
                        origin: object | None = None) -> tuple[int, int]:
        """Move the account's read marker in the room (the `read` op and `POST …/read`); returns the
        marker and the unread count, which the account's sockets, on every process, are told.
        `origin`, the socket that asked, gets its own reply instead."""
        marker, unread = await commands.mark_read(self.services, account, room_id, seq)
        await self._read_moved(room_id, account.id, origin, frame("read", room=room_id, seq=marker, unread=unread))
        return marker, unread

    async def _read_moved(self, room_id: str, account_id: str, origin: object | None, text: str) -> None:
        origin_key = f"{self.node}/{id(origin)}" if origin is not None else ""
        message = READ_SIGNAL + json.dumps({"account": account_id, "origin": origin_key,
                                            "frame": text}, separators=(",", ":"))
        try:
            await self.broker.publish(room_channel(room_id), message)
        except Exception:   # the broker is down: this process's own sockets still hear of it
            self._on_published(room_channel(room_id), message)

    # the dispatcher ------------------------------------------------------------------------------
    async def _dispatch(self) -> None:
        while True:
            published = await self.broker.next_published()
            try:
                self._on_published(published.channel, published.message)
            except Exception:
                log.exception("a broker message could not be dispatched: %.200s", published.message)

    def _on_published(self, channel: str, message: str) -> None:
        if channel == RESUMED:
            for resumed in list(self.feeds.values()):
                resumed.request_fill()
                resumed.presence_changed()
            return
        if not channel.startswith(ROOM_PREFIX):
            return
        feed = self.feeds.get(channel[len(ROOM_PREFIX):])
        if feed is None or not message:
            return
        if message[0] == "~":
            if message == PRESENCE_SIGNAL:
                feed.presence_changed()
            elif message.startswith(READ_SIGNAL):
                read = json.loads(message[len(READ_SIGNAL):])
                node, _, origin = read["origin"].partition("/")
                feed.send_to_account(read["account"], read["frame"],
                                     skip_socket=int(origin) if node == self.node else None)
            else:
                text = message[1:]
                actor = json.loads(text).get("actor") or {}
                feed.broadcast(text, skip_account=actor.get("id"))
            return
        parsed = json.loads(message)
        feed.on_event(parsed["seq"], message, parsed)

    # the health check ----------------------------------------------------------------------------
    async def _check_health(self) -> None:
        interval = self.services.settings.hub_check_seconds
        while True:
            await asyncio.sleep(interval)
            try:
                await self.check_once()
            except Exception as exc:
                log.warning("hub health check failed: %s", exc)

    async def check_once(self) -> None:
        if self._dispatcher is None or self._dispatcher.done():
            log.error("the hub dispatcher had stopped; restarting it and catching up from the log")
            self.stats["dispatcher_restarts"] += 1
            self._dispatcher = asyncio.create_task(self._dispatch(), name="hub-dispatcher")
            for feed in self.feeds.values():
                feed.request_fill()
        now = self.services.clock.now()
        for socket in list(self.sockets):
            socket.check_expiry(now)
        rooms = [room_id for room_id, feed in self.feeds.items() if not feed.opening]
        if rooms:
            async with reading(self.services) as tx:
                heads = dict((await tx.session.execute(HEADS, {"rooms": rooms})).all())
            for room_id, head in heads.items():
                open_feed = self.feeds.get(room_id)
                if open_feed is not None and head > open_feed.delivered and open_feed.filling is None:
                    open_feed.request_fill()   # a publish was lost (Redis down, or the message dropped)
        here = {room_id: dict(feed.names) for room_id, feed in self.feeds.items()}
        try:
            for room_id in await self.presence.refresh(here):
                changed = self.feeds.get(room_id)
                if changed is not None:
                    changed.presence_changed()
        except Exception as exc:
            log.warning("presence not renewed: %s", exc)

    def snapshot(self) -> dict[str, Any]:
        queued = [getattr(s, "queued_bytes", 0) for s in self.sockets]
        return {"node": self.node, "sockets": len(self.sockets), "rooms": len(self.feeds),
                "subscriptions": sum(len(f.subs) for f in self.feeds.values()),
                "queued_bytes": sum(queued), "max_socket_queued_bytes": max(queued, default=0),
                "send_queue_limit_bytes": self.services.settings.ws_send_queue_bytes,
                "broker_up": getattr(self.broker, "up", True),
                "listener_restarts": getattr(self.broker, "restarts", 0), **self.stats}
