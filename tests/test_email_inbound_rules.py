"""Inbound rules around the SMTP conversation: rate limits (451 4.7.1), only our addresses
(550 5.1.1), mail stored before a crash is processed on restart, one bounce per sender per hour."""
from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from tests.email_helpers import send_raw
from tests.people import Api
from workroom.clock import TestClock
from workroom.email_bridge import tokens
from workroom.email_bridge.store_batcher import StoreBatcher
from workroom.email_bridge.install import bridge_of
from workroom.email_bridge.models import OutboxMail, ReceivedMail
from workroom.email_bridge.smtp_server import InboundSmtpServer
from workroom.services import Services

DOMAIN = "workroom.example"


@pytest.fixture
def settings_overrides() -> dict[str, str]:
    return {"WORKROOM_MAIL_DOMAIN": DOMAIN, "WORKROOM_SMTP_RATE_PER_TOKEN": "3", "WORKROOM_SMTP_RATE_PER_IP": "8"}


def _mail(sender: str, to: str, subject: str, text: str, message_id: str) -> bytes:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"], mail["Message-ID"] = sender, to, subject, message_id
    mail.set_content(text)
    return mail.as_bytes()


async def _token(services: Services, room_id: str, account_id: str) -> str:
    async with services.transaction() as tx:
        return await tokens.member_token(tx, services.settings.secret, room_id, account_id)


async def test_rate_limits_per_token_and_per_ip_answer_451_4_7_1(
    api: Api, services: Services, smtp_port: int
) -> None:
    setup = await api.room()
    client = setup["client"]
    address = f"reply+{await _token(services, setup.id, client.id)}@{DOMAIN}"
    codes = []
    for number in range(4):
        raw = _mail(client.email, address, "Re: x", f"note {number}", f"<rl-{number}@c.example>")
        codes.append((await send_raw(smtp_port, raw, client.email, [address])).code)
    assert codes == [250, 250, 250, 451]
    limited = await send_raw(smtp_port, b"Subject: x\r\n\r\ny\r\n", client.email, [address])
    assert limited.message.startswith("4.7.1")
    for number in range(5):  # the bare address has no token limit, but this IP reaches its own
        await send_raw(smtp_port, _mail(client.email, f"reply@{DOMAIN}", "x", "y", f"<ip-{number}@c>"),
                       client.email, [f"reply@{DOMAIN}"])
    blocked = await send_raw(smtp_port, b"Subject: x\r\n\r\ny\r\n", client.email, [f"reply@{DOMAIN}"])
    assert (blocked.stage, blocked.code) == ("rcpt", 451) and blocked.message.startswith("4.7.1")
    assert isinstance(services.clock, TestClock)
    services.clock.advance(timedelta(minutes=2))
    again = await send_raw(smtp_port, _mail(client.email, address, "Re: x", "later", "<rl-late@c>"),
                           client.email, [address])
    assert again.code == 250


async def test_only_our_reply_addresses_are_accepted(services: Services, smtp_port: int) -> None:
    for address in (f"someone@{DOMAIN}", "victim@elsewhere.example", f"reply+{'a' * 24}@{DOMAIN}"):
        result = await send_raw(smtp_port, b"Subject: x\r\n\r\ny\r\n", "a@b.example", [address])
        assert (result.stage, result.code) == ("rcpt", 550) and result.message.startswith("5.1.1"), address


async def test_mail_stored_before_a_crash_is_processed_when_the_server_starts(api: Api, services: Services) -> None:
    setup = await api.room()
    client = setup["client"]
    address = f"reply+{await _token(services, setup.id, client.id)}@{DOMAIN}"
    await StoreBatcher(services).store(peer="127.0.0.1", mail_from=client.email, rcpt_to=[address],
                         raw=_mail(client.email, address, "Re: x", "Stored, then the power went out.", "<crash@c>"))
    server = InboundSmtpServer(services)
    await server.start("127.0.0.1", 0)
    await server.stop()  # waits for the processing that start-up kicked off
    events = await api.events(setup, client)
    assert events[-1]["data"]["body"] == "Stored, then the power went out." and events[-1]["source"] == "email"


async def test_an_unmatched_reply_gets_one_bounce_per_hour_marked_auto_replied(
    api: Api, services: Services, smtp_port: int
) -> None:
    setup = await api.room()
    client = setup["client"]
    for number in range(3):
        raw = _mail(client.email, f"reply@{DOMAIN}", "about that", f"hello {number}?", f"<nomatch-{number}@c>")
        assert (await send_raw(smtp_port, raw, client.email, [f"reply@{DOMAIN}"])).code == 250
    await bridge_of(services).processor.wait_idle()
    async with services.transaction() as tx:
        outcomes = list(await tx.session.scalars(select(ReceivedMail.outcome).order_by(ReceivedMail.id)))
        bounces = list(await tx.session.scalars(select(OutboxMail).where(OutboxMail.kind == "notice")))
    assert outcomes == ["bounce", "ignore", "ignore"]
    assert [b.to_address for b in bounces] == [client.email]
    await bridge_of(services).delivery.run(services)  # embedded mailbox folder: no SMTP_URL here
    [sent] = list((services.settings.var_dir / "mailbox").glob("*.eml"))[-1:]
    text = sent.read_text()
    assert "Auto-Submitted: auto-replied" in text and "the subject has no room tag" in text
