"""A load-generator worker process: holds many subscriber sockets and measures what arrives.

The coordinator (bench.workloads) starts a few of these so that reading 25k frames a second is
not limited by one Python process, and talks to each over a multiprocessing Pipe with small
commands: connect, snapshot, mark, check, close. Every wait is bounded.
"""
from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from bench.stamps import RoomSequence, read_body
from bench.wire import Wire, wire_for


@dataclass
class ConnSpec:
    url: str                        # primary server (the subscriber-side process)
    fallback_url: str               # where to go when the primary dies (W5 kill)
    rooms: list[str]
    slow: bool = False              # subscribes, then never reads again (W4)
    reconnect: bool = False         # reconnect and resubscribe after a close (W5)
    resume: bool = False            # resubscribe with since=<last seq seen> (Workroom)


@dataclass
class ConnState:
    spec: ConnSpec
    rooms: dict[str, RoomSequence] = field(default_factory=dict)
    last_seq: dict[str, int] = field(default_factory=dict)
    first_after_mark: int = 0       # recv time (ns) of the first event sent at/after the mark
    subscribed_at: int = 0
    close_codes: list[int] = field(default_factory=list)
    reconnects: int = 0


def _tiny_receive_socket(url: str) -> socket.socket:
    """A slow reader on a thin link: a 4 KB receive buffer, so the server feels it quickly."""
    host_port = url.split("//", 1)[1].split("/", 1)[0]
    host, port = host_port.rsplit(":", 1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    return sock


class SubscriberPool:
    def __init__(self, system: str) -> None:
        self.wire: Wire = wire_for(system)
        self.states: list[ConnState] = []
        self.latencies_us: list[int] = []
        self.deliveries = 0
        self.mark_ns = 0
        self.stopping = asyncio.Event()
        self.tasks: list[asyncio.Task] = []
        self.errors: list[str] = []
        self.sockets: list[Any] = []

    async def connect_all(self, specs: list[ConnSpec], concurrency: int = 100,
                          timeout: float = 180.0) -> dict:
        gate = asyncio.Semaphore(concurrency)
        ready: list[asyncio.Future] = []
        for spec in specs:
            state = ConnState(spec, {room: RoomSequence() for room in spec.rooms})
            self.states.append(state)
            fut = asyncio.get_running_loop().create_future()
            ready.append(fut)
            self.tasks.append(asyncio.create_task(self._run(state, gate, fut)))
        done, _ = await asyncio.wait(ready, timeout=timeout)
        ok = sum(1 for f in done if f.result() is True)
        return {"connected": ok, "wanted": len(specs), "errors": self.errors[:5]}

    async def _run(self, state: ConnState, gate: asyncio.Semaphore, ready: asyncio.Future) -> None:
        spec = state.spec
        url = spec.url
        attempts = 0
        while not self.stopping.is_set() and attempts < 100:
            attempts += 1
            try:
                async with gate:
                    extra = {"sock": _tiny_receive_socket(url)} if spec.slow else {}
                    ws = await connect(url, compression=None, max_size=2**22, open_timeout=30,
                                       ping_interval=None, max_queue=4 if spec.slow else 64,
                                       **extra)
                    await self.wire.handshake(ws)
                    for room in spec.rooms:
                        since = state.last_seq.get(room, 0) if spec.resume else None
                        await ws.send(self.wire.subscribe(room, since))
                    await self._await_subscribed(ws, state)
                state.subscribed_at = time.time_ns()
                self.sockets.append(ws)
                if not ready.done():
                    ready.set_result(True)
                if spec.slow:
                    await self.stopping.wait()      # never read again: the kernel buffers fill
                    await ws.close()
                    return
                await self._read(ws, state)
                return
            except Exception as exc:  # refused, reset, bad handshake, closed: all end this socket
                code = getattr(getattr(exc, "rcvd", None), "code", None)
                state.close_codes.append(code if code is not None else -1)
                if len(self.errors) < 50:
                    self.errors.append(f"{type(exc).__name__}: {exc}"[:200])
                if not spec.reconnect or self.stopping.is_set():
                    if not ready.done():
                        ready.set_result(False)
                    return
                state.reconnects += 1
                url = spec.fallback_url          # the primary may be the process that died
                await asyncio.sleep(0.1)
        if not ready.done():
            ready.set_result(False)

    async def _await_subscribed(self, ws: Any, state: ConnState) -> None:
        waiting = set(state.spec.rooms)
        async with asyncio.timeout(30):
            while waiting:
                frame = self._handle(await ws.recv(), state)
                if frame.kind == "subscribed":
                    waiting.discard(frame.room)
                elif frame.kind == "ping":
                    await ws.send(self.wire.pong())
                elif frame.kind == "error":
                    raise ConnectionError(f"subscribe refused: {frame.raw}")

    async def _read(self, ws: Any, state: ConnState) -> None:
        pong = self.wire.pong()
        async for message in ws:
            frame = self._handle(message, state)
            if frame.kind == "ping" and pong:
                await ws.send(pong)
        raise ConnectionClosed(ws.close_rcvd, ws.close_sent)

    def _handle(self, message: Any, state: ConnState):
        frame = self.wire.parse(message)
        if frame.kind == "event" and frame.body:
            now = time.time_ns()
            pseq, sent = read_body(frame.body)
            sequence = state.rooms.get(frame.room)
            if sequence is None:
                return frame
            sequence.record(pseq)
            if frame.seq is not None:
                state.last_seq[frame.room] = max(state.last_seq.get(frame.room, 0), frame.seq)
            self.deliveries += 1
            self.latencies_us.append((now - sent) // 1000)
            if self.mark_ns and sent >= self.mark_ns and not state.first_after_mark:
                state.first_after_mark = now
        return frame

    def snapshot(self) -> dict:
        out = {"deliveries": self.deliveries, "latencies_us": self.latencies_us}
        self.deliveries = 0
        self.latencies_us = []
        return out

    def check(self, expected: dict[str, int]) -> dict:
        totals = {"missing": 0, "duplicates": 0, "out_of_order": 0, "slow_missing": 0,
                  "close_codes": {}, "reconnects": 0, "resubscribed_at_max": 0,
                  "first_after_mark_max": 0, "never_after_mark": 0, "conns": len(self.states)}
        for state in self.states:
            for room, sequence in state.rooms.items():
                missing = sequence.missing(expected.get(room, 0))
                totals["slow_missing" if state.spec.slow else "missing"] += missing
                totals["duplicates"] += sequence.duplicates
                totals["out_of_order"] += sequence.out_of_order
            for code in state.close_codes:
                totals["close_codes"][str(code)] = totals["close_codes"].get(str(code), 0) + 1
            totals["reconnects"] += state.reconnects
            if state.reconnects:
                totals["resubscribed_at_max"] = max(totals["resubscribed_at_max"], state.subscribed_at)
            if self.mark_ns and not state.spec.slow:
                if state.first_after_mark:
                    totals["first_after_mark_max"] = max(totals["first_after_mark_max"],
                                                         state.first_after_mark)
                else:
                    totals["never_after_mark"] += 1
        return totals

    async def close(self) -> None:
        self.stopping.set()
        for ws in list(self.sockets):
            ws.transport.abort() if getattr(ws, "transport", None) else None
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


def worker_main(system: str, pipe: Connection) -> None:
    """Entry point of one worker process."""
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    from bench.procs import raise_nofile
    raise_nofile()
    asyncio.run(_serve(system, pipe))


async def _serve(system: str, pipe: Connection) -> None:
    pool = SubscriberPool(system)
    loop = asyncio.get_running_loop()
    while True:
        command, arg = await loop.run_in_executor(None, pipe.recv)
        if command == "connect":
            reply: Any = await pool.connect_all(arg)
        elif command == "snapshot":
            reply = pool.snapshot()
        elif command == "mark":
            pool.mark_ns = arg
            reply = True
        elif command == "check":
            reply = pool.check(arg)
        elif command == "close":
            await pool.close()
            pipe.send(True)
            return
        else:
            reply = {"error": f"unknown command {command}"}
        pipe.send(reply)
