"""Sign-in and my jobs: the login link lands on the job list (status, kind, unread badge, last
activity); archive and unarchive one or several; the archived view; no session → sign in."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import Pages, artifact
from tests.people import Api, Person

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def rooms_for(api: Api, client: Person, freelancer: Person, titles: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    made = []
    for title, kind, status in titles:
        body: dict[str, Any] = {"title": title, "kind": kind, "currency": "USD", "status": status,
                                "client": {"email": client.email, "name": client.name},
                                "freelancer": {"email": freelancer.email, "name": freelancer.name}}
        if kind == "hourly":
            body.update(hourly_rate=4500, weekly_limit_hours=10)
        else:
            body["milestones"] = [{"title": "Design", "amount": 25000, "due_date": "2026-12-20"}]
        made.append(await api.ok("POST", "/api/rooms", api.marketplace, json=body))
    return made


async def test_job_list_shows_status_kind_unread_and_activity_then_archives_several(api: Api, pages: Pages) -> None:
    client = api.person("jobs-client@example.com", "Jo Client")
    freelancer = api.person("jobs-free@example.com", "Fay Freelancer")
    logo, site, pitch = await rooms_for(api, client, freelancer, [
        ("Logo for a bakery", "fixed", "working"), ("Shop website", "hourly", "working"),
        ("Pitch deck", "fixed", "proposal")])
    await api.me(client)
    await api.me(freelancer)
    for text in ("First sketches are up", "Second round too"):
        await api.ok("POST", f"/api/rooms/{logo['id']}/messages", freelancer, json={"body": text})

    page = await pages.open(client)
    await page.wait_for_selector(f"li.job[data-room='{logo['id']}']")
    row = page.locator(f"li.job[data-room='{logo['id']}']")
    assert await row.locator(".job-title").inner_text() == "Logo for a bakery"
    # The room's opening and the freelancer's two messages are unread for the client.
    listed = {r["id"]: r for r in (await api.ok("GET", "/api/rooms", client))["rooms"]}
    assert listed[logo["id"]]["unread"] >= 2
    assert await row.locator(".badge.unread").inner_text() == str(listed[logo["id"]]["unread"])
    assert await row.locator(".status").inner_text() == "Working"
    assert await row.locator(".kind").inner_text() == "Fixed price"
    assert "Last activity" in await row.locator(".activity").inner_text()
    site_row = page.locator(f"li.job[data-room='{site['id']}']")
    assert await site_row.locator(".kind").inner_text() == "Hourly"
    assert listed[site["id"]]["unread"] == listed[logo["id"]]["unread"] - 2
    assert await site_row.locator(".badge.unread").inner_text() == str(listed[site["id"]]["unread"])
    # A proposal cannot be archived: its checkbox is disabled.
    assert await page.locator(f"li.job[data-room='{pitch['id']}'] input[type=checkbox]").is_disabled()
    await page.screenshot(path=str(artifact("job-list.png")), full_page=True)

    # Archive two at once, by keyboard-reachable checkboxes with labels.
    await page.get_by_label("Select Logo for a bakery").check()
    await page.get_by_label("Select Shop website").check()
    await page.get_by_role("button", name="Archive selected").click()
    await page.wait_for_selector("text=2 jobs archived.")
    assert await page.locator("li.job").count() == 1

    await page.get_by_role("link", name="Show archived jobs").click()
    await page.wait_for_selector(f"li.job[data-room='{site['id']}']")
    assert await page.locator("li.job").count() == 2
    await page.get_by_role("button", name="Unarchive Shop website").click()
    await page.wait_for_selector("text=1 job unarchived.")
    assert await page.locator("li.job").count() == 1
    # Archiving is per user: the freelancer still sees all three.
    listed = await api.ok("GET", "/api/rooms", freelancer)
    assert len(listed["rooms"]) == 3


async def test_without_a_session_the_page_asks_to_sign_in(pages: Pages) -> None:
    page = await pages.open(None, "/")
    await page.wait_for_selector("h1:has-text('Please sign in')")
    assert "login link" in await page.locator("main").inner_text()


async def test_job_list_is_readable_at_375_px(api: Api, pages: Pages) -> None:
    setup = await api.room()
    page = await pages.open(setup["client"], width=375, height=740)
    await page.wait_for_selector("li.job")
    overflow = await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px at 375px"
    await page.screenshot(path=str(artifact("job-list-375.png")), full_page=True)


async def test_the_lists_refresh_keeps_the_boxes_the_user_ticked(api: Api, pages: Pages) -> None:
    client = api.person("tick-client@example.com", "Tia Client")
    freelancer = api.person("tick-free@example.com", "Ted Freelancer")
    first, second = await rooms_for(api, client, freelancer, [
        ("Poster", "fixed", "working"), ("Flyer", "fixed", "working")])
    await api.me(freelancer)
    page = await pages.open(client)
    await page.clock.install()  # the list refreshes every 30 s: the test moves the page's clock
    await page.reload()
    await page.wait_for_selector(f"li.job[data-room='{second['id']}']")
    await page.get_by_label("Select Poster").check()
    unread = await page.locator(f"li.job[data-room='{second['id']}'] .badge.unread").inner_text()

    await api.ok("POST", f"/api/rooms/{second['id']}/messages", freelancer, json={"body": "Proofs attached"})
    await page.clock.fast_forward(31_000)
    await page.wait_for_selector(f"li.job[data-room='{second['id']}'] .badge.unread:has-text('{int(unread) + 1}')")
    # Refreshed, and the user's choice is still what the page shows and what the button acts on.
    assert await page.get_by_label("Select Poster").is_checked()
    assert not await page.get_by_label("Select Flyer").is_checked()
    await page.get_by_role("button", name="Archive selected").click()
    await page.wait_for_selector("text=1 job archived.")
    listed = (await api.ok("GET", "/api/rooms?archived=true", client))["rooms"]
    assert [room["id"] for room in listed] == [first["id"]]
