"""Outbound mail: a relay that is down delays mail and loses none; bursts are batched;
one-click unsubscribe turns that member's room mail off; a revoked reply address is refused."""
from __future__ import annotations

from datetime import timedelta
from email.utils import parseaddr
from typing import AsyncIterator

import pytest
from sqlalchemy import func, select

from tests.backends import free_port
from tests.email_helpers import MailSink, send_raw
from tests.people import Api
from workroom.clock import TestClock
from workroom.email_bridge.install import bridge_of
from workroom.email_bridge.models import OutboxMail, ReceivedMail
from workroom.email_bridge.smtp_server import InboundSmtpServer
from workroom.rooms.access import membership
from workroom.services import Services

DOMAIN = "workroom.example"


@pytest.fixture
def relay_port() -> int:
    return free_port()


@pytest.fixture
def settings_overrides(relay_port: int) -> dict[str, str]:
    return {"SMTP_URL": f"smtp://127.0.0.1:{relay_port}", "WORKROOM_MAIL_DOMAIN": DOMAIN,
            "WORKROOM_MAIL_BATCH_SECONDS": "30"}


@pytest.fixture
async def relay(relay_port: int) -> AsyncIterator[MailSink]:
    sink = MailSink(relay_port)
    yield sink
    await sink.stop()


async def _pending(services: Services) -> int:
    async with services.transaction() as tx:
        return int(await tx.session.scalar(
            select(func.count()).select_from(OutboxMail).where(OutboxMail.status != "sent")) or 0)


def _advance(services: Services, **delta: float) -> None:
    assert isinstance(services.clock, TestClock)
    services.clock.advance(timedelta(**delta))


async def test_relay_down_for_a_while_then_every_notification_is_delivered_once(
    api: Api, services: Services, relay: MailSink
) -> None:
    setup = await api.room(guest_for=timedelta(days=14), team=True)
    for number in range(3):
        await api.post(setup, setup["freelancer"], f"Update {number}")
    delivery = bridge_of(services).delivery
    _advance(services, seconds=31)
    assert await delivery.run(services) == 0  # nobody listens on the relay port
    waiting = await _pending(services)
    assert waiting > 0
    for _ in range(3):  # still down on the retries
        _advance(services, hours=1)
        assert await delivery.run(services) == 0
    assert await _pending(services) == waiting

    await relay.start()
    _advance(services, hours=1)
    await delivery.run(services)
    assert await _pending(services) == 0
    _advance(services, hours=2)
    assert await delivery.run(services) == 0  # nothing twice
    for role in ("client", "guest", "team"):
        texts = [str(m.get_body(("plain",)).get_content()) for m in relay.to(setup[role].email)]  # type: ignore[union-attr]
        for number in range(3):
            assert sum(f"Update {number}" in text for text in texts) == 1, (role, number)
    own = [m for m in relay.to(setup["freelancer"].email) if "Update" in str(m.get_body(("plain",)).get_content())]  # type: ignore[union-attr]
    assert own == []  # never mailed their own posts


async def test_a_burst_for_one_member_goes_out_as_one_mail(api: Api, services: Services, relay: MailSink) -> None:
    await relay.start()
    setup = await api.room()
    delivery = bridge_of(services).delivery
    _advance(services, seconds=31)
    await delivery.run(services)
    relay.delivered.clear()
    for number in range(4):
        await api.post(setup, setup["freelancer"], f"Burst {number}")
        _advance(services, seconds=2)
    assert await delivery.run(services) == 0  # still inside the batch window
    _advance(services, seconds=31)
    assert await delivery.run(services) == 1
    [mail] = relay.to(setup["client"].email)
    assert "4 new updates" in str(mail["Subject"])
    text = str(mail.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert all(f"Burst {n}" in text for n in range(4))


async def test_one_click_unsubscribe_turns_that_members_room_mail_off(
    api: Api, services: Services, relay: MailSink
) -> None:
    await relay.start()
    setup = await api.room()
    await api.post(setup, setup["freelancer"], "Hello")
    _advance(services, seconds=31)
    await bridge_of(services).delivery.run(services)
    [mail] = [m for m in relay.to(setup["client"].email) if "Hello" in str(m.get_body(("plain",)).get_content())]  # type: ignore[union-attr]
    url = str(mail["List-Unsubscribe"]).strip("<>")
    path = url.removeprefix("http://testserver")
    response = await api.http.post(path, content=b"List-Unsubscribe=One-Click",
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200
    async with services.transaction() as tx:
        member = await membership(tx, setup.id, setup["client"].id)
        assert member is not None and member.email_notifications is False

    relay.delivered.clear()
    await api.post(setup, setup["freelancer"], "Are you there?")
    _advance(services, seconds=31)
    await bridge_of(services).delivery.run(services)
    assert relay.to(setup["client"].email) == []
    assert (await api.http.post("/email/unsubscribe/forged-token")).status_code == 404


async def test_a_revoked_reply_address_is_refused_with_550_and_the_next_mail_has_a_new_one(
    api: Api, services: Services, relay: MailSink
) -> None:
    await relay.start()
    server = InboundSmtpServer(services)
    port = await server.start("127.0.0.1", 0)
    try:
        setup = await api.room()
        await api.post(setup, setup["freelancer"], "First")
        _advance(services, seconds=31)
        await bridge_of(services).delivery.run(services)
        old = parseaddr(str(relay.to(setup["client"].email)[-1]["Reply-To"]))[1]
        before = await send_raw(port, b"Subject: hi\r\n\r\nstill live\r\n", setup["client"].email, [old])
        assert (before.stage, before.code) == ("data", 250)
        await api.ok("POST", f"/api/rooms/{setup.id}/email/reply-address/revoke", setup["client"])
        # Live a moment ago, so RCPT passes on its cache; the store checks again and keeps nothing.
        result = await send_raw(port, b"Subject: hi\r\n\r\nhello\r\n", setup["client"].email, [old])
        assert (result.stage, result.code) == ("data", 550) and result.message.startswith("5.1.1"), result
        _advance(services, seconds=61)
        result = await send_raw(port, b"Subject: hi\r\n\r\nhello\r\n", setup["client"].email, [old])
        assert (result.stage, result.code) == ("rcpt", 550) and result.message.startswith("5.1.1"), result
        async with services.transaction() as tx:
            stored = await tx.session.scalar(select(func.count()).select_from(ReceivedMail))
        assert stored == 1  # only the mail sent while the address was live
        await api.post(setup, setup["freelancer"], "Second")
        _advance(services, seconds=31)
        await bridge_of(services).delivery.run(services)
        new = parseaddr(str(relay.to(setup["client"].email)[-1]["Reply-To"]))[1]
        assert new != old and new.startswith("reply+")
    finally:
        await server.stop()
