"""A web post is mailed to a guest; the guest's reply over SMTP lands in the room, live, and is
mailed on to the others. Real SMTP both ways over loopback, real databases."""
from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from typing import AsyncIterator

import pytest

from tests.backends import free_port
from tests.email_helpers import MailSink, send_raw
from tests.people import Api
from workroom.channels.broker import room_channel
from workroom.email_bridge.install import bridge_of
from workroom.services import Services

DOMAIN = "workroom.example"


@pytest.fixture
async def relay() -> AsyncIterator[MailSink]:
    sink = MailSink(free_port())
    await sink.start()
    yield sink
    await sink.stop()


@pytest.fixture
def settings_overrides(relay: MailSink) -> dict[str, str]:
    return {"SMTP_URL": f"smtp://127.0.0.1:{relay.port}", "WORKROOM_MAIL_DOMAIN": DOMAIN,
            "WORKROOM_MAIL_BATCH_SECONDS": "0"}


def _text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def _reply(to_mail: EmailMessage, sender: str, text: str) -> bytes:
    reply = EmailMessage()
    reply["From"] = f"Guest Person <{sender}>"
    reply["To"] = str(to_mail["Reply-To"])
    reply["Subject"] = "Re: " + str(to_mail["Subject"])
    reply["Message-ID"] = "<guest-reply-1@guest.example>"
    reply["In-Reply-To"] = str(to_mail["Message-ID"])
    reply["References"] = f"{to_mail['References']} {to_mail['Message-ID']}"
    quoted = "\n".join("> " + line for line in _text(to_mail).splitlines())
    reply.set_content(f"{text}\n\nOn Mon, 2 Mar 2026 at 09:00, Workroom <{DOMAIN}> wrote:\n{quoted}\n")
    return reply.as_bytes()


async def test_web_post_mailed_to_guest_whose_reply_is_posted_live_and_mailed_on(
    api: Api, services: Services, relay: MailSink, smtp_port: int
) -> None:
    setup = await api.room(guest_for=timedelta(days=14))
    client, freelancer, guest = setup["client"], setup["freelancer"], setup["guest"]
    bridge = bridge_of(services)
    await bridge.delivery.run(services)  # the mail about the room opening and the guest joining
    relay.delivered.clear()

    await api.post(setup, freelancer, "First sketches are up. A or B?")
    assert await bridge.delivery.run(services) >= 2
    assert relay.to(freelancer.email) == []  # never the author
    assert len(relay.to(client.email)) == 1
    [notice] = relay.to(guest.email)

    assert str(notice["Subject"]).startswith("[WR:")
    assert "Logo redesign: Fred Freelancer posted a message" in str(notice["Subject"])
    reply_to = parseaddr(str(notice["Reply-To"]))[1]
    assert reply_to.startswith("reply+") and reply_to.endswith("@" + DOMAIN)
    assert notice["Auto-Submitted"] == "auto-generated"
    assert notice["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert str(notice["List-Unsubscribe"]).startswith("<http://testserver/email/unsubscribe/")
    assert str(notice["Message-ID"]).endswith(f"@{DOMAIN}>") and notice["In-Reply-To"] and notice["References"]
    assert _text(notice).startswith("-- Reply above this line")
    assert "First sketches are up. A or B?" in _text(notice)
    assert notice.get_body(("html",)) is not None

    await services.broker.subscribe(room_channel(setup.id))
    result = await send_raw(smtp_port, _reply(notice, guest.email, "B, with the darker blue."), guest.email,
                            [reply_to])
    assert result.code == 250, result
    live = json.loads((await asyncio.wait_for(services.broker.next_published(), 10)).message)
    assert live["type"] == "message.posted" and live["source"] == "email"
    assert live["data"]["body"] == "B, with the darker blue."

    events = await api.events(setup, client)
    assert events[-1]["type"] == "message.posted"
    assert events[-1]["source"] == "email"
    assert events[-1]["actor"]["name"] == "Guest Person"
    assert events[-1]["data"]["body"] == "B, with the darker blue."

    relay.delivered.clear()
    await bridge.delivery.run(services)
    assert relay.to(guest.email) == []
    for other in (client, freelancer):
        [forwarded] = relay.to(other.email)
        assert "B, with the darker blue." in _text(forwarded)
