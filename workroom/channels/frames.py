"""Server -> client frames of `/ws` (API.md), as JSON text.

An event frame is the stored envelope with `"type": "event"`, and the envelope's own type (which
would clash with the frame's) under `"event"`: `{"type":"event","event":"message.posted","room":
...,"seq":...,"actor":...,"data":...}`. It is made from the stored text with string operations,
once per event per process: the canonical envelope has sorted keys, so `"type"` is its last key.
"""

from __future__ import annotations

import json
import struct
from typing import Any


TYPE_KEY = ',"type":'


def event_frame(envelope: str) -> str:
    cut = envelope.rfind(TYPE_KEY)
    if cut > 0 and envelope.endswith('"}'):
        return '{"type":"event","event":' + envelope[cut + len(TYPE_KEY):-1] + "," + envelope[1:cut] + "}"
    parsed = json.loads(envelope)           # not canonical text: take the slow, sure way
    return json.dumps({**parsed, "type": "event", "event": parsed.get("type")}, separators=(",", ":"),
                      ensure_ascii=False)


def frame(type: str, request_id: Any = None, **fields: Any) -> str:
    body: dict[str, Any] = {"type": type, **fields}
    if request_id is not None:
        body["id"] = request_id
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def error_frame(code: str, message: str, request_id: Any = None, **fields: Any) -> str:
    return frame("error", request_id, code=code, message=message, **fields)


class OutFrame:
    """One server -> client text frame, shared by every socket it goes to.

    `wire` is the frame as it goes on the wire: a server's frames are unmasked, so an uncompressed
    frame is the same bytes for every socket, and is built once however many sockets get it.
    """

    __slots__ = ("text", "size", "_wire")

    def __init__(self, text: str) -> None:
        self.text = text
        self.size = len(text)
        self._wire: bytes | None = None

    @property
    def wire(self) -> bytes:
        wire = self._wire
        if wire is None:
            payload = self.text.encode()
            n = len(payload)
            if n < 126:
                head = bytes((0x81, n))                      # FIN + text, unmasked, short length
            elif n < 1 << 16:
                head = struct.pack("!BBH", 0x81, 126, n)
            else:
                head = struct.pack("!BBQ", 0x81, 127, n)
            wire = self._wire = head + payload
        return wire

    @property
    def parts(self) -> tuple["OutFrame", ...]:
        return (self,)


class OutBatch:
    """Consecutive event frames that reach a socket together: one write of all their wire bytes,
    joined once per process (a socket that fell behind by a few events catches up in one write)."""

    __slots__ = ("parts", "size", "_wire")

    def __init__(self, parts: tuple[OutFrame, ...]) -> None:
        self.parts = parts
        self.size = sum(part.size for part in parts)
        self._wire: bytes | None = None

    @property
    def wire(self) -> bytes:
        if self._wire is None:
            self._wire = b"".join(part.wire for part in self.parts)
        return self._wire


Outgoing = OutFrame | OutBatch
