"""`/ws` (API.md) and `/healthz/hub`: authenticate, then hand the socket to a SocketSession.

`/ws` is served by `HubSockets`, an ASGI middleware right below Starlette's server-error
middleware, not by a route: it gets the server's own `send` (the outlet writes straight onto
uvicorn's transport, see outlet.py) and each idle connection's task holds a short stack.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from workroom.auth import sign_in
from workroom.channels.hub import Hub
from workroom.channels.outlet import outlet_for
from workroom.channels.socket_session import NOT_ALLOWED, NOT_AUTHENTICATED, SocketSession
from workroom.errors import ApiError
from workroom.services import Services

WS_PATH = "/ws"


class HubSockets:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == WS_PATH:
            await websocket_endpoint(WebSocket(scope, receive, send), send)
        else:
            await self.app(scope, receive, send)


async def websocket_endpoint(websocket: WebSocket, send: Send) -> None:
    session = await _open(websocket, send)
    if session is not None:
        await session.run()


async def _open(websocket: WebSocket, send: Send) -> SocketSession | None:
    """Sign in and accept; returns None after refusing. Nothing from the sign-in (the ORM account)
    stays referenced for the life of the connection."""
    services: Services = websocket.app.state.services
    hub: Hub = websocket.app.state.hub
    try:
        signed_in = await sign_in(websocket, services, allow_query_token=True)
    except ApiError as error:
        # accept first: a close code only exists on an open socket (a refused handshake is a bare 403)
        await websocket.accept()
        await websocket.close(NOT_AUTHENTICATED if error.status == 401 else NOT_ALLOWED, error.message[:120])
        return None
    await websocket.accept()
    return SocketSession(websocket, outlet_for(send), services, hub, signed_in.account, signed_in.expires_at)


async def hub_health(request: Request) -> Response:
    """Live figures of this process's hub (sockets, rooms, queued bytes, slow closes, broker)."""
    hub: Hub = request.app.state.hub
    return JSONResponse(hub.snapshot())


routes: list[BaseRoute] = [
    Route("/healthz/hub", hub_health, methods=["GET"]),
]
