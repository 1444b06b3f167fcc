"""How the load generator speaks to each system over a WebSocket.

Workroom speaks API.md's `/ws` protocol. The two peers are our own small chat apps, written to
speak the same JSON shape (`{"type": "event", "room", "data": {"body"}}`) so that one parser
serves all; Socket.IO wraps it in Engine.IO v4 packets (`42["event", {...}]`), spoken here raw
over the websocket transport, which is what python-socketio's own client does after its upgrade.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class Frame:
    kind: str                 # event | subscribed | ack | error | ping | other
    room: str | None = None
    body: str | None = None
    seq: int | None = None    # Workroom's stored per-room seq (peers have none)
    raw: Any = None


class Wire:
    name = "base"

    def url(self, base: str, token: str | None) -> str:
        raise NotImplementedError

    async def handshake(self, ws: Any) -> None:
        """Anything the protocol needs before the first op."""

    def subscribe(self, room: str, since: int | None) -> str:
        raise NotImplementedError

    def post(self, room: str, body: str, client_id: str) -> str:
        raise NotImplementedError

    def parse(self, message: str | bytes) -> Frame:
        raise NotImplementedError

    def pong(self) -> str | None:
        return None


def _frame_from(obj: dict) -> Frame:
    kind = obj.get("type", "other")
    if kind == "event":
        data = obj.get("data") or {}
        return Frame("event", obj.get("room"), data.get("body"), obj.get("seq"))
    if kind == "subscribed":
        return Frame("subscribed", obj.get("room"), seq=obj.get("head"))
    if kind in ("ack", "error"):
        return Frame(kind, obj.get("room"), raw=obj)
    return Frame("other", raw=obj)


class JsonWire(Wire):
    """Workroom and the Channels peer: one JSON object per text frame."""

    def __init__(self, name: str, path: str) -> None:
        self.name = name
        self.path = path

    def url(self, base: str, token: str | None) -> str:
        return f"{base}{self.path}" + (f"?token={token}" if token else "")

    def subscribe(self, room: str, since: int | None) -> str:
        frame: dict[str, Any] = {"op": "subscribe", "room": room}
        if since is not None:
            frame["since"] = since
        return json.dumps(frame)

    def post(self, room: str, body: str, client_id: str) -> str:
        return json.dumps({"op": "post", "room": room, "body": body, "client_id": client_id})

    def parse(self, message: str | bytes) -> Frame:
        return _frame_from(json.loads(message))


class SocketIOWire(Wire):
    """Engine.IO v4 + Socket.IO v5 packets on the websocket transport, default namespace."""

    name = "socketio"

    def url(self, base: str, token: str | None) -> str:
        return f"{base}/socket.io/?EIO=4&transport=websocket"

    async def handshake(self, ws: Any) -> None:
        opened = await ws.recv()                 # 0{"sid":..., "pingInterval":...}
        if not str(opened).startswith("0"):
            raise ConnectionError(f"unexpected engine.io open packet {opened!r}")
        await ws.send("40")                      # socket.io CONNECT to "/"
        while True:
            packet = str(await ws.recv())
            if packet.startswith("40"):
                return
            if packet == "2":
                await ws.send("3")

    def subscribe(self, room: str, since: int | None) -> str:
        return "42" + json.dumps(["subscribe", {"room": room}])

    def post(self, room: str, body: str, client_id: str) -> str:
        return "42" + json.dumps(["post", {"room": room, "body": body, "client_id": client_id}])

    def parse(self, message: str | bytes) -> Frame:
        text = message if isinstance(message, str) else message.decode()
        if text.startswith("42"):
            name, payload = json.loads(text[2:])[:2]
            if name == "event":
                return _frame_from(payload)
            if name == "subscribed":
                return Frame("subscribed", payload.get("room"))
            if name in ("ack", "error"):
                return Frame(name, raw=payload)
            return Frame("other", raw=payload)
        if text == "2":
            return Frame("ping")
        return Frame("other", raw=text)

    def pong(self) -> str | None:
        return "3"


def wire_for(system: str) -> Wire:
    if system == "socketio":
        return SocketIOWire()
    if system == "channels":
        return JsonWire("channels", "/ws/")
    return JsonWire("workroom", "/ws")
