"""`/api/test-clock`: moves the server's clock and fires every timer that fell due. Mounted only
when WORKROOM_TEST_CLOCK=1, never in production."""

from __future__ import annotations

from datetime import timedelta

import isodate
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from workroom.clock import TestClock, isoformat
from workroom.errors import ApiError, invalid
from workroom.http import json_body, ok, services_of


def _clock(request: Request) -> TestClock:
    clock = services_of(request).clock
    assert isinstance(clock, TestClock)
    return clock


async def show(request: Request) -> Response:
    return ok({"now": isoformat(_clock(request).now())})


async def move(request: Request) -> Response:
    services = services_of(request)
    clock = _clock(request)
    body = await json_body(request)
    advance, now = body.str("advance", required=False, max_len=64), body.datetime("now")
    if (advance is None) == (now is None):
        raise ApiError(422, "missing_field", "Send exactly one of advance (ISO 8601 duration) or now (ISO time).")
    if advance is not None:
        try:
            delta = isodate.parse_duration(advance)
        except (isodate.ISO8601Error, ValueError):
            raise invalid("advance", "must be an ISO 8601 duration such as P30D or PT1H") from None
        if not isinstance(delta, timedelta) or delta < timedelta(0):
            raise invalid("advance", "must be a positive duration in days, hours, minutes or seconds")
        clock.advance(delta)
    else:
        assert now is not None
        if now < clock.now():
            raise ApiError(409, "clock_backwards", "The test clock only moves forward.")
        clock.set(now)
    fired = await services.timers.run_due(services)
    return ok({"now": isoformat(clock.now()), "timers_fired": fired})


routes = [Route("/api/test-clock", show, methods=["GET"]), Route("/api/test-clock", move, methods=["POST"])]
