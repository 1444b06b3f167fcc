"""The round trip in the scaled shape, every hop real: a `web` process (uvicorn) on PostgreSQL and
our own Redis; the SMTP bridge and the worker in this process. A post over HTTP is mailed to the
guest through a real relay; the guest's reply over SMTP appears on a client's subscribed
WebSocket (through Redis to the web process) and is mailed on to the others."""
from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import AsyncIterator

import pytest

from tests.conftest import need_redis
from tests.backends import free_port
from tests.email_helpers import MailSink, send_raw
from tests.live_servers import Cluster, LiveClient, http_api, web_env
from workroom.config import Settings
from workroom.email_bridge.install import bridge_of
from workroom.email_bridge.smtp_server import InboundSmtpServer
from workroom.services import Services

DOMAIN = "workroom.example"


@pytest.fixture
async def cluster(postgres_url: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    need_redis()
    live = Cluster(postgres_url, tmp_path)
    live.redis.start()  # type: ignore[union-attr]
    try:
        yield live
    finally:
        live.stop()


def _text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


async def test_guest_reply_by_smtp_reaches_a_websocket_on_another_process(cluster: Cluster) -> None:
    relay = MailSink(free_port())
    await relay.start()
    mail_env = {"SMTP_URL": f"smtp://127.0.0.1:{relay.port}", "WORKROOM_MAIL_DOMAIN": DOMAIN,
                "WORKROOM_MAIL_BATCH_SECONDS": "0"}
    web = cluster.start_web("web", **mail_env)
    assert cluster.redis is not None
    settings = Settings.from_env(web_env(cluster.database_url, cluster.redis.url, cluster.workdir / "var",
                                         WORKROOM_REDIS_PREFIX=cluster.prefix, **mail_env))
    services = Services(settings)  # the `smtp` and `worker` roles
    await services.start()
    smtp = InboundSmtpServer(services)
    smtp_port = await smtp.start("127.0.0.1", 0)
    api, http = http_api(web)
    live: LiveClient | None = None
    try:
        room = await api.room(guest_for=timedelta(days=14))
        client, freelancer, guest = room["client"], room["freelancer"], room["guest"]
        delivery = bridge_of(services).delivery
        await delivery.run(services)
        relay.delivered.clear()
        live = await LiveClient(web.ws(client.token)).open()
        await live.subscribe(room.id)

        await api.post(room, freelancer, "First sketches are up. A or B?")
        await delivery.run(services)
        [notice] = relay.to(guest.email)
        reply = EmailMessage()
        reply["From"], reply["To"] = f"Guest Person <{guest.email}>", str(notice["Reply-To"])
        reply["Subject"], reply["In-Reply-To"] = "Re: " + str(notice["Subject"]), str(notice["Message-ID"])
        reply["Message-ID"] = "<live-reply@guest.example>"
        reply.set_content("B please.\n\nOn Mon, Workroom wrote:\n" +
                          "\n".join("> " + line for line in _text(notice).splitlines()))
        result = await send_raw(smtp_port, reply.as_bytes(), guest.email, [parseaddr(str(notice["Reply-To"]))[1]])
        assert result.code == 250, result

        await live.wait_for(lambda c: "B please." in c.bodies.get(room.id, []))
        [frame] = [f for f in live.of_type("event") if (f.get("data") or {}).get("body") == "B please."]
        assert frame["source"] == "email" and frame["actor"]["name"] == "Guest Person"

        relay.delivered.clear()
        await delivery.run(services)
        assert relay.to(guest.email) == []
        for other in (client, freelancer):
            assert any("B please." in _text(m) for m in relay.to(other.email)), other.email
    finally:
        if live is not None:
            await live.close()
        await http.aclose()
        await smtp.stop()
        await services.stop()
        await relay.stop()
