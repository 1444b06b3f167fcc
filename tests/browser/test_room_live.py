"""The room, live, for two people in two browser contexts: messages both ways, typing and
presence; Enter sends and Shift+Enter starts a new line; the unread divider; older history on
scroll; screen-reader announcements; a screenshot of the room."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Pages, artifact, open_room, shown_bodies
from tests.people import Api

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_client_and_freelancer_see_each_others_messages_typing_and_presence_live(api: Api, pages: Pages) -> None:
    setup = await api.room(title="Bakery logo")
    client_page = await open_room(pages, setup["client"], setup.id)
    free_page = await open_room(pages, setup["freelancer"], setup.id)
    for page in (client_page, free_page):
        await page.wait_for_selector(".connection[data-state=open]")

    # Presence: each sees the other in the room now.
    await client_page.wait_for_selector(f".member.online[data-account='{setup['freelancer'].id}']")
    await free_page.wait_for_selector(f".member.online[data-account='{setup['client'].id}']")
    # Typing: the client sees the freelancer typing.
    free_box = free_page.get_by_role("textbox", name="Message")
    await free_box.type("I am writ")
    await client_page.wait_for_selector(".typing:has-text('Fred Freelancer is typing')")
    await free_box.fill("")

    # Enter sends; Shift+Enter is a new line inside the same message.
    box = client_page.get_by_role("textbox", name="Message")
    await box.fill("Hello Fred,")
    await box.press("Shift+Enter")
    await box.type("the brief is attached.")
    await box.press("Enter")
    await free_page.wait_for_selector(".type-message-posted .body:has-text('the brief is attached.')")
    assert "Hello Fred,\nthe brief is attached." in await shown_bodies(free_page)
    assert await box.input_value() == ""

    await free_box.fill("Thanks! Starting today.")
    await free_page.get_by_role("button", name="Send").click()
    await client_page.wait_for_selector(".type-message-posted .body:has-text('Starting today.')")
    # The message ended the typing line, and was announced to screen readers.
    assert await client_page.locator(".typing").inner_text() == ""
    assert "Fred Freelancer: Thanks! Starting today." in await client_page.locator(
        ".visually-hidden[role=status][aria-live=polite]").inner_text()
    await client_page.screenshot(path=str(artifact("room.png")), full_page=True)

    # Each message shows once on each side, whatever path carried it.
    for page in (client_page, free_page):
        bodies = await shown_bodies(page)
        assert bodies.count("Thanks! Starting today.") == 1
        assert bodies.count("Hello Fred,\nthe brief is attached.") == 1

    # Leaving the room takes the freelancer off the client's presence list.
    await free_page.goto(f"{pages.live.url}/#/")
    await client_page.wait_for_selector(f".member:not(.online)[data-account='{setup['freelancer'].id}']")


async def test_unread_divider_and_older_history_on_scroll(api: Api, pages: Pages) -> None:
    setup = await api.room(title="Long job")
    client, freelancer = setup["client"], setup["freelancer"]
    for n in range(1, 71):
        await api.post(setup, client, f"client note {n}")
    head = (await api.events(setup, client))[-1]["seq"]
    await api.ok("POST", f"/api/rooms/{setup.id}/read", freelancer, json={"seq": head})
    for n in range(1, 4):
        await api.post(setup, client, f"unread note {n}")

    page = await open_room(pages, freelancer, setup.id)
    await page.screenshot(path=str(artifact("room-unread.png")))
    # The divider sits right before the first message the freelancer has not read.
    after_divider = page.locator(".unread-divider + li .body")
    assert await after_divider.inner_text() == "unread note 1"
    bodies = await shown_bodies(page)
    assert "client note 1" not in bodies  # only the newest page is loaded at first
    # Scrolling to the top loads older history, in order, without duplicates.
    for _ in range(5):
        await page.locator(".timeline-scroll").evaluate("el => el.scrollTop = 0")
        await page.wait_for_timeout(200)
        if "client note 1" in await shown_bodies(page):
            break
    bodies = await shown_bodies(page)
    expected = [f"client note {n}" for n in range(1, 71)] + [f"unread note {n}" for n in range(1, 4)]
    assert bodies == expected
    seqs = [int(s) for s in await page.locator(".timeline li.event").evaluate_all("els => els.map(e => e.dataset.seq)")]
    assert seqs == list(range(1, len(seqs) + 1))


async def test_room_is_readable_at_375_px_and_usable_by_keyboard(api: Api, pages: Pages) -> None:
    setup = await api.room(title="Small screen job")
    await api.post(setup, setup["freelancer"], "A fairly long message that has to wrap on a phone screen "
                   "without making the page scroll sideways: https://example.com/a/very/long/link/that/goes/on")
    page = await open_room(pages, setup["client"], setup.id, width=375, height=800)
    overflow = await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the room scrolls sideways by {overflow}px at 375px"
    await page.screenshot(path=str(artifact("room-375.png")), full_page=True)
    # Every form control has a label; tabs switch with the arrow keys.
    unlabelled = await page.evaluate("""() => [...document.querySelectorAll('input, textarea, select')]
        .filter(el => el.type !== 'hidden' && !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
        .map(el => el.outerHTML)""")
    assert unlabelled == []
    await page.get_by_role("tab", name="Work").focus()
    await page.keyboard.press("ArrowRight")
    assert await page.get_by_role("tab", name="Money").get_attribute("aria-selected") == "true"
    assert await page.evaluate("document.activeElement.textContent") == "Money"
