"""The Starlette application: routes of every package, error handling, and the lifespan that
starts and stops the services (and, in the embedded shape, the worker)."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount, Route

from workroom.channels import routes as hub_routes
from workroom.channels.hub import Hub
from workroom.auth import SESSION_COOKIE, SESSION_MAX_AGE, read_token, session_cookie_value
from workroom.accounts import account_for_token
from workroom.config import Settings
from workroom.errors import ApiError
from workroom.http import error_response, services_of
from workroom.billing import routes as billing_routes
from workroom.email_bridge import routes as email_routes
from workroom.feedback import routes as feedback_routes
from workroom.rooms import routes as room_routes
from workroom.support import routes as support_routes
from workroom.metrics import HUBS, RequestMetrics
from workroom.metrics import routes as metrics_routes
from workroom.security_headers import SecurityHeaders
from workroom.services import Services
from workroom import testclock

log = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parent.parent / "web"


async def healthz(request: Request) -> Response:
    services = services_of(request)
    parts: dict[str, str] = {}
    for name, probe in (("db", services.db.ping), ("broker", services.broker.ping)):
        try:
            await probe()
            parts[name] = "ok"
        except Exception as exc:  # the point is to report any failure, whatever it is
            parts[name] = f"failing: {type(exc).__name__}"
    healthy = all(v == "ok" for v in parts.values())
    return JSONResponse({"status": "ok" if healthy else "failing", **parts}, status_code=200 if healthy else 503)


async def login(request: Request) -> Response:
    services = services_of(request)
    token = request.query_params.get("token")
    if not token:
        raise ApiError(401, "not_authenticated", "The login link has no token.")
    async with services.transaction() as tx:
        claims = read_token(services.settings.secret, token, tx.now)
        account = await account_for_token(tx, claims.sub, claims.email, claims.name, claims.role)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(SESSION_COOKIE, session_cookie_value(services.settings.secret, account.id),
                        max_age=SESSION_MAX_AGE, httponly=True, samesite="lax",
                        secure=services.settings.base_url.startswith("https://"))
    return response


async def logout(request: Request) -> Response:
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


async def favicon(request: Request) -> Response:
    """Browsers ask for /favicon.ico on every page that names none (the printable statement)."""
    return RedirectResponse("/static/favicon.svg", status_code=301)


async def index(request: Request) -> Response:
    page = WEB_DIR / "index.html"
    if not page.exists():
        return JSONResponse({"name": "workroom", "api": "/api", "health": "/healthz"})
    # The page is tiny and changes with each release: always revalidate it.
    return Response(page.read_bytes(), media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"})


async def on_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return error_response(ApiError(exc.status_code, code, str(exc.detail)))


async def on_server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(ApiError(500, "server_error", "Something went wrong on our side; nothing was lost."))


def build_routes(services: Services) -> list[BaseRoute]:
    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        *metrics_routes,
        Route("/login", login, methods=["GET"]),
        Route("/logout", logout, methods=["GET", "POST"]),
        Route("/", index, methods=["GET"]),
        Route("/favicon.ico", favicon, methods=["GET"]),
    ]
    routes += room_routes.routes
    routes += hub_routes.routes
    routes += email_routes.routes
    routes += feedback_routes.routes
    routes += support_routes.routes
    routes += billing_routes.routes
    if services.settings.test_clock:
        routes += testclock.routes
    if WEB_DIR.exists():
        from starlette.staticfiles import StaticFiles

        routes.append(Mount("/static", StaticFiles(directory=WEB_DIR), name="static"))
    return routes


def create_app(settings: Settings | None = None, *, services: Services | None = None,
               run_worker: bool = False, run_smtp: bool = False) -> Starlette:
    services = services or Services(settings or Settings.from_env())
    hub = Hub(services)
    HUBS.hubs.add(hub)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await services.start()
        await hub.start()
        worker = None
        if run_worker:
            from workroom.worker import Worker

            worker = Worker(services)
            worker.start()
        smtp = None
        if run_smtp:  # the embedded shape: the inbound SMTP bridge in this process too
            from workroom.email_bridge.smtp_server import InboundSmtpServer

            smtp = InboundSmtpServer(services)
            port = await smtp.start()
            log.warning("inbound SMTP listening on %s:%s", services.settings.smtp_host, port)
        try:
            yield
        finally:
            if smtp is not None:
                await smtp.stop()
            if worker is not None:
                await worker.stop()
            await hub.stop()
            await services.stop()

    app = Starlette(
        routes=build_routes(services),
        lifespan=lifespan,
        middleware=[Middleware(hub_routes.HubSockets), Middleware(RequestMetrics), Middleware(SecurityHeaders)],
        exception_handlers={ApiError: on_api_error, HTTPException: on_http_error, Exception: on_server_error},
    )
    app.state.services = services
    app.state.hub = hub
    return app
