"""/metrics: what an operator's Prometheus reads. Each figure moves when the thing it counts
happens (a post, a request, a timer, a mail in or out); only this machine or a holder of the
metrics token may read them; the worker and smtp processes serve theirs on a port of their own."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.backends import free_port
from tests.conftest import START, make_settings
from tests.email_helpers import send_raw
from tests.people import Api
from workroom.app import create_app
from workroom.clock import TestClock
from workroom.config import ConfigError
from workroom.email_bridge import tokens
from workroom.email_bridge.install import bridge_of
from workroom.metrics import serve_on_port
from workroom.services import Services


def figures(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


async def scrape(http: httpx.AsyncClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = await http.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return figures(response.text)


def value(seen: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return seen.get((name, frozenset(labels.items())), 0.0)


async def test_a_post_moves_the_event_and_request_figures_and_the_hub_is_there(
        api: Api, http: httpx.AsyncClient) -> None:
    setup = await api.room()
    before = await scrape(http)
    await api.ok("POST", f"/api/rooms/{setup.id}/messages", setup["client"], json={"body": "Counted?"})
    after = await scrape(http)

    assert value(after, "workroom_events_published_total", kind="message") == \
        value(before, "workroom_events_published_total", kind="message") + 1
    # By the route's template, so that rooms do not each make a series of their own.
    posted = {"method": "POST", "route": "/api/rooms/{room}/messages", "status": "201"}
    assert value(after, "workroom_http_requests_total", **posted) == \
        value(before, "workroom_http_requests_total", **posted) + 1
    assert value(after, "workroom_http_request_seconds_count", route="/api/rooms/{room}/messages") > 0
    assert not any(setup.id in labels_value for (_, labels) in after for _, labels_value in labels)
    for name in ("workroom_ws_sockets", "workroom_ws_rooms", "workroom_hub_closed_slow_total"):
        assert any(key[0] == name for key in after), name
    refused = {"method": "GET", "route": "/api/rooms/{room}", "status": "404"}
    await http.get("/api/rooms/r_nosuchroom", headers={"Authorization": f"Bearer {setup['client'].token}"})
    await http.request("BREW", "/api/teapot-" + setup.id)  # neither its verb nor its path makes a series
    last = await scrape(http)
    assert value(last, "workroom_http_requests_total", **refused) == \
        value(after, "workroom_http_requests_total", **refused) + 1
    brewed = {"method": "other", "route": "unmatched", "status": "404"}
    assert value(last, "workroom_http_requests_total", **brewed) == \
        value(after, "workroom_http_requests_total", **brewed) + 1
    assert not any(labels_value in ("BREW",) or setup.id in labels_value
                   for (_, labels) in last for _, labels_value in labels)


async def test_timers_count_fired_and_failed_with_their_lateness(services: Services, http: httpx.AsyncClient) -> None:
    async def fine(tx: object, timer: object) -> None:
        return None

    async def broken(tx: object, timer: object) -> None:
        raise RuntimeError("handler bug")

    services.timers.handlers["test.fine"] = fine
    services.timers.handlers["test.broken"] = broken
    async with services.transaction() as tx:
        await services.timers.schedule(tx, "test.fine", "a", tx.now + timedelta(hours=1))
        await services.timers.schedule(tx, "test.broken", "b", tx.now + timedelta(hours=1))
    before = await scrape(http)
    assert isinstance(services.clock, TestClock)
    services.clock.advance(timedelta(hours=1, seconds=30))
    assert await services.timers.run_due(services) == 2
    after = await scrape(http)

    for kind, result in (("test.fine", "ok"), ("test.broken", "failed")):
        assert value(after, "workroom_timers_fired_total", kind=kind, result=result) == \
            value(before, "workroom_timers_fired_total", kind=kind, result=result) + 1
    # Both fired 30 s after they were due: they land in the 30 s bucket, not the 10 s one.
    late = "workroom_timer_lateness_seconds_bucket"
    assert value(after, late, le="30.0") - value(before, late, le="30.0") == 2
    assert value(after, late, le="10.0") - value(before, late, le="10.0") == 0


async def test_mail_in_and_out_is_counted(api: Api, services: Services, http: httpx.AsyncClient,
                                          smtp_port: int) -> None:
    setup = await api.room()
    before = await scrape(http)
    await api.ok("POST", f"/api/rooms/{setup.id}/messages", setup["client"], json={"body": "Mail me"})
    assert isinstance(services.clock, TestClock)
    services.clock.advance(timedelta(minutes=5))  # past the batch window
    sent = await bridge_of(services).delivery.run(services)
    domain = services.settings.mail_domain
    refused = await send_raw(smtp_port, b"Subject: hi\r\n\r\nhello\r\n", "someone@example.com",
                             [f"reply+nosuchtoken0000000000@{domain}"])
    assert refused.code == 550
    client = setup["client"]
    async with services.transaction() as tx:
        token = await tokens.member_token(tx, services.settings.secret, setup.id, await api.me(client))
    reply = EmailMessage()
    reply["From"], reply["To"], reply["Subject"], reply["Message-ID"] = \
        client.email, f"reply+{token}@{domain}", "Re: the job", "<counted-reply@client.example>"
    reply.set_content("Replying by mail")
    assert (await send_raw(smtp_port, reply.as_bytes(), client.email, [reply["To"]])).code == 250
    await bridge_of(services).processor.wait_idle()
    after = await scrape(http)

    assert sent >= 1
    assert value(after, "workroom_mail_sent_total", result="sent") == \
        value(before, "workroom_mail_sent_total", result="sent") + sent
    assert value(after, "workroom_smtp_replies_total", command="RCPT", code="550") == \
        value(before, "workroom_smtp_replies_total", command="RCPT", code="550") + 1
    assert value(after, "workroom_smtp_replies_total", command="DATA", code="250") == \
        value(before, "workroom_smtp_replies_total", command="DATA", code="250") + 1
    assert value(after, "workroom_mail_processed_total", outcome="post") == \
        value(before, "workroom_mail_processed_total", outcome="post") + 1


async def test_only_this_machine_reads_the_figures_unless_a_token_is_set(
        database_url: str, tmp_path: Path) -> None:
    async def get(services: Services, client_host: str, **headers: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(services=services), client=(client_host, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.get("/metrics", headers=headers)

    open_services = Services(make_settings(database_url, tmp_path / "a"), clock=TestClock(START))
    assert (await get(open_services, "127.0.0.1")).status_code == 200
    assert (await get(open_services, "::1")).status_code == 200
    elsewhere = await get(open_services, "203.0.113.7")
    assert elsewhere.status_code == 403
    assert elsewhere.json()["error"]["code"] == "metrics_local_only"

    token = "m" * 24
    guarded = Services(make_settings(database_url, tmp_path / "b", WORKROOM_METRICS_TOKEN=token),
                       clock=TestClock(START))
    for headers in ({}, {"Authorization": "Bearer " + "x" * 24}, {"Authorization": token}):
        refused = await get(guarded, "127.0.0.1", **headers)  # with a token, even this machine shows it
        assert refused.status_code == 401, headers
        assert refused.json()["error"]["code"] == "not_authenticated"
    allowed = await get(guarded, "203.0.113.7", Authorization=f"Bearer {token}")
    assert allowed.status_code == 200
    assert "workroom_events_published_total" in allowed.text
    await open_services.stop()
    await guarded.stop()


@pytest.mark.parametrize("name, raw, says", [
    ("WORKROOM_METRICS_TOKEN", "short", "at least 16 characters"),
    ("WORKROOM_METRICS_PORT", "70000", "TCP port"),
    ("WORKROOM_METRICS_PORT", "nine", "integer"),
])
def test_bad_metrics_settings_stop_start_up_naming_the_variable(tmp_path: Path, name: str, raw: str,
                                                                says: str) -> None:
    with pytest.raises(ConfigError, match=name) as error:
        make_settings("sqlite+aiosqlite:///" + str(tmp_path / "x.db"), tmp_path, **{name: raw})
    assert says in str(error.value)


async def test_worker_and_smtp_processes_serve_their_figures_on_their_own_port() -> None:
    port = free_port()
    server, thread = serve_on_port(port)
    try:
        async with httpx.AsyncClient() as client:
            response = await client.get(f"http://127.0.0.1:{port}/metrics")
        assert response.status_code == 200
        assert "workroom_broker_publish_failures_total" in response.text
    finally:
        server.shutdown()
        thread.join(timeout=5)
