"""Feedback and support events are mailed like any other event, in words a person reads; a
private comment is never mailed to anyone. Over real SMTP to a capturing relay."""

from __future__ import annotations

from typing import AsyncIterator

import pytest

from tests.billing_steps import advance
from tests.backends import free_port
from tests.email_helpers import MailSink
from tests.money import release_payment
from tests.people import Api
from workroom.email_bridge.install import bridge_of
from workroom.services import Services


@pytest.fixture
def relay_port() -> int:
    return free_port()


@pytest.fixture
def settings_overrides(relay_port: int) -> dict[str, str]:
    return {"SMTP_URL": f"smtp://127.0.0.1:{relay_port}", "WORKROOM_MAIL_BATCH_SECONDS": "1"}


@pytest.fixture
async def relay(relay_port: int) -> AsyncIterator[MailSink]:
    sink = MailSink(relay_port)
    await sink.start()
    yield sink
    await sink.stop()


async def deliver(api: Api, services: Services) -> None:
    await api.advance("PT2S")
    await bridge_of(services).delivery.run(services)


def texts(relay: MailSink, address: str) -> list[str]:
    return [f"{m['Subject']}\n{m.get_body(('plain',)).get_content()}" for m in relay.to(address)]  # type: ignore[union-attr]


async def test_feedback_request_mails_the_client(api: Api, services: Services, relay: MailSink) -> None:
    room = await api.room()
    await advance(api, room, "P30D")
    await release_payment(api, room, 30000)
    await api.ok("POST", f"/api/rooms/{room.id}/feedback/request", room["freelancer"])
    await deliver(api, services)
    mails = [t for t in texts(relay, room["client"].email) if "asked for mid-contract feedback" in t]
    assert len(mails) == 1 and "You can leave it in the room until" in mails[0]


async def test_outreach_closed_mails_the_client_the_options(api: Api, services: Services, relay: MailSink) -> None:
    room = await api.room(support=True)
    case = await api.ok("POST", f"/api/rooms/{room.id}/cases", room["support"],
                        json={"complaint": "Silent freelancer", "wants": "Move on", "disputed_amount": 5000})
    await api.ok("POST", f"/api/cases/{case['id']}/outreach", room["support"],
                 json={"party": "freelancer", "channel": "email", "responded": False})
    await api.advance("PT48H")
    await deliver(api, services)
    mail = "\n".join(texts(relay, room["client"].email))
    assert "opened a support case" in mail and "Complaint: Silent freelancer" in mail
    assert "Outreach closed without a response" in mail
    for option in ("Close the contract", "Leave feedback", "Move on, with help posting a new job"):
        assert option in mail


async def test_relayed_message_is_marked_in_mail(api: Api, services: Services, relay: MailSink) -> None:
    room = await api.room(support=True)
    case = await api.ok("POST", f"/api/rooms/{room.id}/cases", room["support"],
                        json={"complaint": "Slow replies", "wants": "An answer", "disputed_amount": 0})
    await api.ok("POST", f"/api/cases/{case['id']}/relay", room["support"],
                 json={"party": "freelancer", "body": "Back on Monday."})
    await deliver(api, services)
    mail = "\n".join(texts(relay, room["client"].email))
    assert "relayed a message from Fred Freelancer" in mail and "Back on Monday." in mail


async def test_private_comment_is_never_mailed(api: Api, services: Services, relay: MailSink) -> None:
    room = await api.room(support=True, team=True)
    await api.post(room, room["client"], "Public hello")
    await api.ok("POST", f"/api/rooms/{room.id}/private-comments", room["client"], json={"body": "Confidential worry"})
    await deliver(api, services)
    assert relay.delivered  # the public message went out
    assert not any("Confidential worry" in t for d in relay.delivered
                   for t in [d.message.as_string()])
