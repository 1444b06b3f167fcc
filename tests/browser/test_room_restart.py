"""The server restarts while a page is open and messages are posted meanwhile: the page says it
is reconnecting, then shows every missed message exactly once, in order."""

from __future__ import annotations

import asyncio

import pytest

from tests.browser.conftest import Pages, open_room, shown_bodies
from tests.people import Api

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_restart_while_open_shows_each_missed_message_exactly_once(api: Api, pages: Pages) -> None:
    setup = await api.room(title="Restart drill")
    client, freelancer = setup["client"], setup["freelancer"]
    page = await open_room(pages, client, setup.id)
    await page.wait_for_selector(".connection[data-state=open]")
    await api.post(setup, freelancer, "before the restart")
    await page.wait_for_selector(".body:has-text('before the restart')")

    await asyncio.to_thread(pages.live.stop)
    await page.wait_for_selector(".connection[data-state=reconnecting]")
    await asyncio.to_thread(pages.live.start)
    missed = [f"missed {n}" for n in range(1, 8)]
    for body in missed:
        await api.post(setup, freelancer, body)
    await api.post(setup, client, "missed 8, from my own other tab")
    missed.append("missed 8, from my own other tab")

    await page.wait_for_selector(f".body:has-text('{missed[-1]}')", timeout=30000)
    await page.wait_for_selector(".connection[data-state=open]")
    await api.post(setup, freelancer, "after the reconnect")
    missed.append("after the reconnect")
    await page.wait_for_selector(".body:has-text('after the reconnect')")
    await page.wait_for_timeout(500)  # any duplicate delivery would have landed by now
    bodies = await shown_bodies(page)
    assert bodies == ["before the restart", *missed]
    seqs = [int(s) for s in await page.locator(".timeline li.event").evaluate_all("els => els.map(e => e.dataset.seq)")]
    assert seqs == sorted(set(seqs)) and seqs[-1] - seqs[0] + 1 == len(seqs)
