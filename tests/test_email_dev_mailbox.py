"""The embedded default (no SMTP_URL): mail goes to var/mailbox and /dev/mailbox shows it."""
from __future__ import annotations

from datetime import timedelta

from tests.people import Api
from workroom.clock import TestClock
from workroom.email_bridge.install import bridge_of
from workroom.services import Services


async def test_without_a_relay_mail_lands_in_the_dev_mailbox_page(api: Api, services: Services) -> None:
    setup = await api.room()
    await api.post(setup, setup["freelancer"], "Sketches <b>attached</b> soon")
    assert isinstance(services.clock, TestClock)
    services.clock.advance(timedelta(minutes=1))
    assert await bridge_of(services).delivery.run(services) >= 1
    assert list((services.settings.var_dir / "mailbox").glob("*.eml"))
    page = await api.http.get("/dev/mailbox")
    assert page.status_code == 200
    assert setup["client"].email in page.text
    assert "Sketches &lt;b&gt;attached&lt;/b&gt; soon" in page.text  # shown as text, never as markup
    assert "reply+" in page.text and "[WR:" in page.text
