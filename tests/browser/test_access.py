"""Guests see the room while their access lasts and a clear "your access ended" page after;
a stranger's link shows nothing of the room."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.browser.conftest import Pages, open_room
from tests.people import Api

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_guest_sees_the_room_then_is_locked_out_when_access_ends(api: Api, pages: Pages) -> None:
    setup = await api.room(title="Guest-visible brief", guest_for=timedelta(days=2))
    await api.post(setup, setup["client"], "Gina, here is the brief for your review.")
    page = await open_room(pages, setup["guest"], setup.id)
    assert "Gina, here is the brief" in await page.locator(".timeline").inner_text()
    assert "Guest" in await page.locator(".room-meta").inner_text()

    await api.advance("P3D")
    await api.post(setup, setup["client"], "Secret follow-up after the guest left.")
    # The open page learns it live (the socket loses the room), without a reload…
    await page.wait_for_selector("h1:has-text('Your access ended')")
    # …and a fresh visit says the same.
    await page.reload()
    await page.wait_for_selector("h1:has-text('Your access ended')")
    text = await page.locator("main").inner_text()
    assert "guest access to this room has ended" in text
    assert "Guest-visible brief" not in text and "Secret follow-up" not in text
    # The live path shuts too: no event reaches the page after the lock-out.
    await page.wait_for_timeout(500)
    assert await page.locator(".timeline").count() == 0


async def test_a_strangers_link_shows_nothing_of_the_room(api: Api, pages: Pages) -> None:
    setup = await api.room(title="Confidential rebrand")
    await api.post(setup, setup["client"], "Budget is tight, keep it quiet.")
    stranger = api.person("stranger@example.com", "Stan Stranger")
    page = await pages.open(stranger, f"/#/room/{setup.id}")
    await page.wait_for_selector("h1:has-text('Room not found')")
    body = await page.locator("body").inner_text()
    assert "Confidential rebrand" not in body and "Budget is tight" not in body
    assert await page.locator(".timeline li").count() == 0
    # Exactly as for a room that does not exist.
    await page.goto(f"{pages.live.url}/#/room/r_doesnotexist")
    await page.reload()
    await page.wait_for_selector("h1:has-text('Room not found')")
