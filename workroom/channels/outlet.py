"""Where a socket's frames go: straight onto the transport under uvicorn's websockets-sansio
protocol (uvicorn's choice whenever `websockets` is installed), or through the ASGI `send` under
any other server or protocol.

Delivering one event to thousands of sockets is the hub's hot loop. Through ASGI each frame is an
awaited `send` (a coroutine, the protocol's frame serialisation, a write). The uvicorn outlet writes
the event's wire bytes, built once per event per process (`OutFrame.wire`), with one
`transport.write` and no task switch. It does so only while the connection is open and
uncompressed and the transport is below its high-water mark; otherwise `try_write` says no and the
socket queues the frame (its bounded send queue) and drains it with `write`, which waits until the
transport is writable, exactly as the ASGI `send` would.
"""

from __future__ import annotations

from typing import Any, Protocol

from starlette.types import Send

from workroom.channels.frames import Outgoing

try:
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
    from websockets.protocol import State
except ImportError:  # another server: every frame goes through ASGI
    WebSocketsSansIOProtocol = None  # type: ignore[assignment,misc]


class Outlet(Protocol):
    def try_write(self, frame: Outgoing) -> bool:
        """Write now without waiting; False when the caller must queue the frame and `write` it."""

    async def write(self, frame: Outgoing) -> None:
        """Write, waiting until the connection can take it."""


class AsgiOutlet:
    __slots__ = ("_send",)

    def __init__(self, send: Send) -> None:
        self._send = send

    def try_write(self, frame: Outgoing) -> bool:
        return False

    async def write(self, frame: Outgoing) -> None:
        for part in frame.parts:
            await self._send({"type": "websocket.send", "text": part.text})


class UvicornOutlet:
    __slots__ = ("_protocol", "_transport", "_writable", "_conn", "_compressed")

    def __init__(self, protocol: Any) -> None:
        # made once the socket is accepted: the transport, the connection and its extensions
        # stay what they are for its life, so the hot path reads them from here
        self._protocol = protocol
        self._transport = protocol.transport
        self._writable = protocol.writable
        self._conn = protocol.conn
        self._compressed = bool(protocol.conn.extensions)   # permessage-deflate negotiated
        # The handshake's request and response (their headers are most of a connection's
        # memory after the handshake) are read only until the socket is accepted.
        protocol.request = protocol.response = None

    def try_write(self, frame: Outgoing) -> bool:
        if self._protocol.close_sent or self._transport.is_closing():
            return True        # closing or gone: the frame is dropped and the reader sees the end
        if not self._writable.is_set():
            return False       # above the high-water mark: queue it
        if self._compressed:   # compressed per socket
            conn = self._conn
            if conn.state is not State.OPEN:
                return True
            for part in frame.parts:
                conn.send_text(part.text.encode())
            self._transport.write(b"".join(conn.data_to_send()))
        else:
            self._transport.write(frame.wire)
        return True

    async def write(self, frame: Outgoing) -> None:
        await self._writable.wait()
        self.try_write(frame)


def outlet_for(send: Send) -> Outlet:
    """For an accepted socket."""
    protocol = getattr(send, "__self__", None)
    if WebSocketsSansIOProtocol is not None and isinstance(protocol, WebSocketsSansIOProtocol):
        return UvicornOutlet(protocol)
    return AsgiOutlet(send)
