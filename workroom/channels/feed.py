"""One room's live feed in one process: the sockets watching it, and the last `seq` it delivered.

Events reach the feed from the broker; the feed hands each one, in `seq` order and exactly once,
to every subscription whose position is behind it. A `seq` gap (a broker message lost, the broker
reconnected, a publish that failed while Redis was down) makes the feed read the missing events
from the room log before it delivers anything newer; events arriving meanwhile wait in `pending`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from workroom.channels.frames import OutBatch, OutFrame, Outgoing, event_frame, frame
from workroom.reads import reading

if TYPE_CHECKING:
    from workroom.channels.hub import Hub

log = logging.getLogger(__name__)

PAGE = 500
MAX_PENDING = 5000
# Events delivered in one turn of the event loop go to each socket as one write; a batch is
# written when it reaches this size, so one socket's write stays small.
BATCH_BYTES = 64 * 1024
# Events after which a member may no longer see the room: their sockets are unsubscribed.
MEMBERSHIP_ENDS = ("member.removed", "member.access_ended")


class Socket(Protocol):
    account_id: str

    def send_event(self, frame: Outgoing) -> None: ...

    def send_ephemeral(self, frame: OutFrame) -> None: ...

    def lose_room(self, room_id: str, code: str, message: str) -> None: ...


@dataclass(eq=False, slots=True)
class Subscription:
    socket: Socket
    room_id: str
    account: dict[str, str]
    expires_at: datetime | None = None
    position: int = 0          # the highest seq handed to this socket


class RoomFeed:
    def __init__(self, hub: "Hub", room_id: str) -> None:
        self.hub = hub
        self.room_id = room_id
        self.delivered = -1                     # unknown until the head is read (opening)
        self.subs: set[Subscription] = set()
        self.expiring = 0                       # subscriptions with a guest expiry
        self.attaching = 0
        self.pending: dict[int, str] = {}
        self.filling: asyncio.Task[None] | None = None
        self.fill_again = False
        self.accounts: dict[str, int] = {}      # account id -> sockets here
        self.names: dict[str, dict[str, str]] = {}
        self.presence_task: asyncio.Task[None] | None = None
        self._batch: list[tuple[int, OutFrame]] = []    # delivered, not yet written (this turn)
        self._batch_bytes = 0

    @property
    def opening(self) -> bool:
        return self.delivered < 0

    def opened(self, head: int) -> None:
        self.delivered = head
        if self.pending:
            self.request_fill()

    # live events ---------------------------------------------------------------------------------
    def on_event(self, seq: int, envelope: str, parsed: dict[str, Any]) -> None:
        if self.opening or self.filling is not None:
            if len(self.pending) < MAX_PENDING:
                self.pending[seq] = envelope
            else:
                self.pending.clear()        # the log has them all; read it again instead
                self.fill_again = True
            return
        if seq <= self.delivered:
            return                          # already delivered (a duplicate or a refill overlap)
        if seq == self.delivered + 1:
            self._deliver(seq, envelope, parsed)
            return
        self.pending[seq] = envelope
        self.hub.stats["gaps"] += 1
        self.request_fill()

    def _deliver(self, seq: int, envelope: str, parsed: dict[str, Any] | None) -> None:
        """Take the next event into this turn's batch; `flush` writes it to the sockets when the
        turn ends, so a burst of events costs each socket one write, not one per event."""
        out = OutFrame(event_frame(envelope))   # once per event per process, whatever the sockets
        if not self._batch:
            asyncio.get_running_loop().call_soon(self.flush)
        self._batch.append((seq, out))
        self._batch_bytes += out.size
        self.delivered = seq
        self.hub.stats["events"] += 1
        if parsed is None and '"member.' in envelope:
            parsed = json.loads(envelope)
        if parsed is not None and parsed.get("type") in MEMBERSHIP_ENDS:
            self.flush()                    # the member gets this event, and nothing after it
            gone = ((parsed.get("data") or {}).get("member") or {}).get("id")
            for sub in tuple(self.subs):
                if sub.account["id"] == gone:
                    sub.socket.lose_room(self.room_id, "access_ended", "You are no longer a member of this room.")
        elif self._batch_bytes >= BATCH_BYTES:
            self.flush()

    def flush(self) -> None:
        batch, self._batch, self._batch_bytes = self._batch, [], 0
        if not batch:
            return
        first, last = batch[0][0], batch[-1][0]
        whole: Outgoing = batch[0][1] if len(batch) == 1 else OutBatch(tuple(out for _, out in batch))
        now = self.hub.services.clock.now() if self.expiring else None
        for sub in tuple(self.subs):
            position = sub.position
            if position >= last:
                continue
            if now is not None and sub.expires_at is not None and sub.expires_at <= now:
                sub.socket.lose_room(self.room_id, "access_expired", "Your guest access to this room has ended.")
                continue
            sub.position = last
            try:
                if position < first:
                    sub.socket.send_event(whole)
                else:                       # joined in the middle of the batch (rare)
                    sub.socket.send_event(OutBatch(tuple(out for seq, out in batch if seq > position)))
            except Exception:               # one broken socket must not cost the others the batch
                log.exception("writing to a socket in room %s failed", self.room_id)

    # catching up from the log --------------------------------------------------------------------
    def request_fill(self) -> None:
        if self.opening:
            return
        if self.filling is None:
            self.filling = asyncio.create_task(self._fill(), name=f"fill-{self.room_id}")
        else:
            self.fill_again = True

    async def _fill(self) -> None:
        try:
            for _ in range(10_000):  # bounded: each round reads one page or drains pending
                self.fill_again = False
                async with reading(self.hub.services) as tx:
                    events = await self.hub.services.log.read(tx.session, self.room_id, self.delivered, PAGE)
                for event in events:
                    if event.seq == self.delivered + 1:
                        self._deliver(event.seq, event.envelope, None)
                self.hub.stats["filled"] += len(events)
                if len(events) == PAGE:
                    continue
                for seq in [s for s in self.pending if s <= self.delivered]:
                    del self.pending[seq]
                while self.delivered + 1 in self.pending:
                    self._deliver(self.delivered + 1, self.pending.pop(self.delivered + 1), None)
                if not self.pending and not self.fill_again:
                    return
                if self.pending:
                    await asyncio.sleep(0.01)  # the missing one may still be committing
        except Exception:
            log.exception("catching up room %s from the log failed; the health check retries", self.room_id)
        finally:
            self.filling = None

    # sockets -------------------------------------------------------------------------------------
    async def attach(self, sub: Subscription, since: int | None) -> None:
        """Backlog after `since`, then live, with no gap and no duplicate: read pages until the
        socket has reached what the feed delivered, then join in the same step of the event loop,
        so no live event can fall between the last page and the join."""
        self.attaching += 1
        try:
            position = self.delivered if since is None else since
            for _ in range(100_000):
                if position >= self.delivered:
                    break
                async with reading(self.hub.services) as tx:
                    events = await self.hub.services.log.read(tx.session, self.room_id, position, PAGE)
                if not events:
                    break
                for chunk in _chunks([OutFrame(event_frame(event.envelope)) for event in events]):
                    sub.socket.send_event(chunk)
                position = events[-1].seq
                await self.hub.wait_roomy(sub.socket)
            sub.position = position
            self.subs.add(sub)
            if sub.expires_at is not None:
                self.expiring += 1
        finally:
            self.attaching -= 1

    def detach(self, sub: Subscription) -> None:
        if sub in self.subs:
            self.subs.discard(sub)
            if sub.expires_at is not None:
                self.expiring -= 1

    @property
    def idle(self) -> bool:
        return not self.subs and not self.attaching

    # ephemeral -----------------------------------------------------------------------------------
    def broadcast(self, text: str, *, skip_account: str | None = None) -> None:
        out = OutFrame(text)
        for sub in tuple(self.subs):
            if sub.account["id"] != skip_account:
                sub.socket.send_ephemeral(out)

    def send_to_account(self, account_id: str, text: str, *, skip_socket: int | None = None) -> None:
        """To the sockets of one account here (its other tabs), but the one whose id() is skip_socket."""
        out = OutFrame(text)
        for sub in tuple(self.subs):
            if sub.account["id"] == account_id and id(sub.socket) != skip_socket:
                sub.socket.send_ephemeral(out)

    def presence_changed(self) -> None:
        if self.presence_task is None:
            self.presence_task = asyncio.create_task(self._send_presence())

    async def _send_presence(self) -> None:
        try:
            # coalesce a burst of joins into one frame; the bigger the room, the longer the burst
            # we wait for, so 5,000 people arriving cost a few broadcasts, not 5,000
            await asyncio.sleep(0.05 + min(2.0, len(self.subs) / 5000))
            online = await self.hub.presence.online(self.room_id)
            self.broadcast(frame("presence", room=self.room_id, online=online))
        except Exception as exc:
            log.warning("presence of room %s not sent: %s", self.room_id, exc)
        finally:
            self.presence_task = None

    async def send_presence_to(self, sub: Subscription) -> None:
        """One more socket of someone already here: only that socket needs the list."""
        try:
            online = await self.hub.presence.online(self.room_id)
            sub.socket.send_ephemeral(OutFrame(frame("presence", room=self.room_id, online=online)))
        except Exception as exc:
            log.warning("presence of room %s not sent: %s", self.room_id, exc)


def _chunks(frames: list[OutFrame]) -> list[Outgoing]:
    """A backlog page as a few writes of at most about BATCH_BYTES each."""
    chunks: list[Outgoing] = []
    start = size = 0
    for i, out in enumerate(frames):
        size += out.size
        if size >= BATCH_BYTES or i == len(frames) - 1:
            part = tuple(frames[start:i + 1])
            chunks.append(part[0] if len(part) == 1 else OutBatch(part))
            start, size = i + 1, 0
    return chunks
