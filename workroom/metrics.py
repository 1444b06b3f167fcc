"""This process's figures in Prometheus's text format (prometheus_client), for the operator's
dashboards and alerts: events stored, HTTP requests, the hub's sockets and fan-out, mail in and out,
timers and how late they fire.

`GET /metrics` on a web process. Readers: with `WORKROOM_METRICS_TOKEN` set, whoever sends it as
a Bearer token; without, only this machine (loopback), so a server put on the internet as it is
does not publish its figures. The `smtp` and `worker` processes, which have no web server, serve
the same on 127.0.0.1:`WORKROOM_METRICS_PORT` when it is set.

Counters are counted where the thing happens, once per process; the hub's figures are read from
the hub itself (`Hub.snapshot`) when scraped, so there is one source for them."""

from __future__ import annotations

import hmac
import time
import weakref
from functools import lru_cache
from ipaddress import ip_address
from typing import TYPE_CHECKING, Any, Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, disable_created_metrics, generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from workroom.errors import ApiError

if TYPE_CHECKING:
    from workroom.channels.hub import Hub

disable_created_metrics()  # no `_created` series beside every counter: nobody graphs them
REGISTRY = CollectorRegistry()

EVENTS = Counter("workroom_events_published", "Room events stored and published, by the first part of their type "
                 "(message, milestone, hourly, job, ...)", ["kind"], registry=REGISTRY)


@lru_cache(maxsize=None)
def events_of_kind(kind: str) -> Counter:
    """`EVENTS`' series for one kind (a bounded set: the first parts of event types). Looked up once:
    `labels()` checks its arguments and takes a lock on every call, and every event counts."""
    return EVENTS.labels(kind)


PUBLISH_FAILURES = Counter("workroom_broker_publish_failures", "Stored events the broker did not take "
                           "(subscribers catch up from the log)", registry=REGISTRY)
HTTP_REQUESTS = Counter("workroom_http_requests", "HTTP requests, by route template and status",
                        ["method", "route", "status"], registry=REGISTRY)
HTTP_SECONDS = Histogram("workroom_http_request_seconds", "HTTP request duration until the response started",
                         ["route"], registry=REGISTRY,
                         buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
SMTP_REPLIES = Counter("workroom_smtp_replies", "Inbound SMTP answers to RCPT and DATA, by command and code",
                       ["command", "code"], registry=REGISTRY)
MAIL_PROCESSED = Counter("workroom_mail_processed", "Received mail, by what became of it "
                         "(post, hold, refuse, ignore, bounce, ...)", ["outcome"], registry=REGISTRY)
MAIL_SENT = Counter("workroom_mail_sent", "Outbound mail delivery attempts, by result (sent, retry, failed)",
                    ["result"], registry=REGISTRY)
TIMERS_FIRED = Counter("workroom_timers_fired", "Durable timers fired, by kind and result (ok, failed)",
                       ["kind", "result"], registry=REGISTRY)
TIMER_LATENESS = Histogram("workroom_timer_lateness_seconds", "How long after its due time a timer fired",
                           registry=REGISTRY, buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600))


class HubFigures:
    """The hubs of this process (one, in a server), read at scrape time."""

    def __init__(self) -> None:
        self.hubs: "weakref.WeakSet[Hub]" = weakref.WeakSet()

    def collect(self) -> Iterator[Any]:
        snapshots = [hub.snapshot() for hub in list(self.hubs)]
        gauges = {"sockets": "WebSocket connections open", "rooms": "rooms with subscribers in this process",
                  "subscriptions": "room subscriptions of open sockets",
                  "queued_bytes": "bytes waiting in sockets' send queues"}
        for key, text in gauges.items():
            yield GaugeMetricFamily(f"workroom_ws_{key}", text, value=sum(s[key] for s in snapshots))
        counters = {"events": "events delivered to this process's room feeds",
                    "gaps": "seq gaps seen (filled from the log)", "filled": "events filled from the log",
                    "closed_slow": "sockets closed with 4008 (too slow)",
                    "dispatcher_restarts": "broker dispatcher restarts",
                    "listener_restarts": "broker listener restarts (health check)"}
        for key, text in counters.items():
            yield CounterMetricFamily(f"workroom_hub_{key}", text, value=sum(s[key] for s in snapshots))


HUBS = HubFigures()
REGISTRY.register(HUBS)


METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def method_of(scope: Scope) -> str:
    """The request's method, or `other`: a client must not mint a series with a made-up verb."""
    method = scope["method"]
    return method if method in METHODS else "other"


def route_of(scope: Scope) -> str:
    """The route's template (`/api/rooms/{room}`), never the raw path: one series per route."""
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"


class RequestMetrics:
    """Counts each HTTP request by route and status, and times it to the start of its response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def counted_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                HTTP_SECONDS.labels(route_of(scope)).observe(time.perf_counter() - started)
            await send(message)

        try:
            await self.app(scope, receive, counted_send)
        finally:
            HTTP_REQUESTS.labels(method_of(scope), route_of(scope), str(status)).inc()


def may_read(token: str | None, authorization: str | None, client_host: str | None) -> None:
    """Raise unless this caller may read the figures (see the module's doc)."""
    if token:
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            raise ApiError(401, "not_authenticated", "Send WORKROOM_METRICS_TOKEN as a Bearer token.")
        return
    try:
        local = client_host is not None and ip_address(client_host).is_loopback
    except ValueError:
        local = False
    if not local:
        raise ApiError(403, "metrics_local_only",
                       "Metrics are served to this machine only; set WORKROOM_METRICS_TOKEN to read them from elsewhere.")


async def metrics(request: Request) -> Response:
    settings = request.app.state.services.settings
    may_read(settings.metrics_token, request.headers.get("authorization"),
             request.client.host if request.client else None)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


routes = [Route("/metrics", metrics, methods=["GET"])]


def serve_on_port(port: int) -> Any:
    """For the `smtp` and `worker` processes, which have no web server: prometheus_client's own
    small one, in a thread. It checks no token, so it listens on this machine only."""
    from prometheus_client import start_http_server

    return start_http_server(port, addr="127.0.0.1", registry=REGISTRY)
