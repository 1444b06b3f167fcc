"""The database is down while mail arrives: the sender gets 451 and nothing is lost; after the
database is back, the retried mail is posted exactly once (also when the sender retries again)."""
from __future__ import annotations

import re
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from tests.backends import PG_PORT, free_port
from tests.conftest import START, make_settings
from tests.email_helpers import send_raw
from tests.people import Api
from tests.tcp_proxy import TcpProxy
from workroom.app import create_app
from workroom.clock import TestClock
from workroom.email_bridge import tokens
from workroom.email_bridge.install import bridge_of
from workroom.email_bridge.smtp_server import InboundSmtpServer
from workroom.rooms.models import Event
from workroom.services import Services

DOMAIN = "workroom.example"


@pytest.fixture
async def proxied(postgres_url: str, tmp_path: Path) -> AsyncIterator[tuple[Services, TcpProxy]]:
    proxy = TcpProxy(free_port(), "127.0.0.1", PG_PORT)
    await proxy.start()
    url = postgres_url.replace(f":{PG_PORT}/", f":{proxy.listen_port}/")
    services = Services(make_settings(url, tmp_path / "var", WORKROOM_MAIL_DOMAIN=DOMAIN), clock=TestClock(START))
    await services.start()
    yield services, proxy
    if not proxy.up:
        await proxy.restore()
    await services.stop()
    await proxy.cut()


def _reply(sender: str, to: str, subject: str, message_id: str, text: str) -> bytes:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"], mail["Message-ID"] = sender, to, subject, message_id
    mail.set_content(text)
    return mail.as_bytes()


async def test_mail_during_a_database_outage_gets_451_and_is_posted_once_after(
    proxied: tuple[Services, TcpProxy]
) -> None:
    services, proxy = proxied
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(services=services)),
                                 base_url="http://testserver") as http:
        api = Api(http, services)
        setup = await api.room(guest_for=timedelta(days=14))
    guest = setup["guest"]
    async with services.transaction() as tx:
        token = await tokens.member_token(tx, services.settings.secret, setup.id, guest.id)
        tag = await tokens.room_tag(tx, setup.id)
    server = InboundSmtpServer(services)
    port = await server.start("127.0.0.1", 0)
    try:
        by_token = _reply(guest.email, f"reply+{token}@{DOMAIN}", "Re: sketches", "<outage-1@guest.example>",
                          "Posted after the outage.")
        by_tag = _reply(guest.email, f"reply@{DOMAIN}", f"[WR:{tag}] new topic", "<outage-2@guest.example>",
                        "Also posted after the outage.")
        await proxy.cut()
        first = await send_raw(port, by_token, guest.email, [f"reply+{token}@{DOMAIN}"])
        assert (first.stage, first.code) == ("rcpt", 451) and first.message.startswith("4.3.0"), first
        second = await send_raw(port, by_tag, guest.email, [f"reply@{DOMAIN}"])
        assert (second.stage, second.code) == ("data", 451) and second.message.startswith("4.3.0"), second

        await proxy.restore()
        for raw, rcpt in ((by_token, f"reply+{token}@{DOMAIN}"), (by_tag, f"reply@{DOMAIN}"),
                          (by_token, f"reply+{token}@{DOMAIN}")):  # the sender's retries; the last one twice
            result = await send_raw(port, raw, guest.email, [rcpt])
            assert result.code == 250 and re.search(r"queued as \d+", result.message), result
        await bridge_of(services).processor.wait_idle()
        await bridge_of(services).processor.run(services)
    finally:
        await server.stop()
    async with services.transaction() as tx:
        posted = list(await tx.session.scalars(select(Event).where(
            Event.room_id == setup.id, Event.type == "message.posted", Event.source == "email")))
    bodies = sorted(event.envelope for event in posted)
    assert len(posted) == 2
    assert sum("Posted after the outage." in body for body in bodies) == 1
    assert sum("Also posted after the outage." in body for body in bodies) == 1
