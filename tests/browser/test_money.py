"""Money, live for the other party: a milestone funded → release requested → released; the
countdowns ("auto-release in 12 days") follow the server's clock; the closing statement page
reconciles with the ledger to the cent."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Pages, artifact, open_room
from tests.people import Api

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def money_tab(page: object) -> None:
    await page.get_by_role("tab", name="Money").click()  # type: ignore[attr-defined]


async def test_milestone_funded_release_requested_released_live_with_countdown_and_statement(api: Api, pages: Pages) -> None:
    setup = await api.room(title="Escrow drill")
    concepts = setup.milestones[0]
    item = f"li.milestone[data-milestone='{concepts['id']}']"
    client_page = await open_room(pages, setup["client"], setup.id)
    free_page = await open_room(pages, setup["freelancer"], setup.id)
    for page in (client_page, free_page):
        await money_tab(page)
        await page.wait_for_selector(f"{item}[data-state=not_funded]")
    # Only the actions each role may take now.
    assert await free_page.locator(item).get_by_role("button", name="Request funding: Concepts").count() == 1
    assert await free_page.locator(item).locator("summary:has-text('Fund')").count() == 0
    assert await client_page.locator(item).get_by_role("button", name="Request release: Concepts").count() == 0

    await client_page.locator(item).locator("summary:has-text('Fund Concepts')").click()
    await client_page.locator(item).get_by_label("Payment method").select_option("verified")
    await client_page.locator(item).get_by_role("button", name="Fund $300.00").click()
    await free_page.wait_for_selector(f"{item}[data-state=funded]")
    await free_page.wait_for_selector(".type-milestone-funded")

    await free_page.locator(item).get_by_role("button", name="Request release: Concepts").click()
    await client_page.wait_for_selector(f"{item}[data-state=release_requested]")
    assert "Auto-release in 30 days" in await client_page.locator(item).inner_text()
    assert await client_page.locator(item).get_by_role("button", name="Release: Concepts").count() == 1

    await api.advance("P18D")
    await client_page.reload()
    await money_tab(client_page)
    await client_page.wait_for_selector(f"{item} .countdown")
    countdown = await client_page.locator(f"{item} .countdown").all_inner_texts()
    assert countdown == ["Payment is overdue", "Auto-release in 12 days"]
    await client_page.screenshot(path=str(artifact("room-money.png")), full_page=True)

    await client_page.locator(item).get_by_role("button", name="Release: Concepts").click()
    await free_page.wait_for_selector(f"{item}[data-state=released]")
    await free_page.wait_for_selector(".type-milestone-released")
    assert await free_page.locator(item).get_by_role("button").count() == 0

    await free_page.goto(f"{pages.live.url}/#/room/{setup.id}/statement")
    await free_page.wait_for_selector(".reconcile")
    ledger = await api.ok("GET", f"/api/rooms/{setup.id}/ledger", setup["freelancer"])
    statement = await api.ok("GET", f"/api/rooms/{setup.id}/statement", setup["freelancer"])
    fee = statement["totals"]["fees"]
    assert statement["totals"]["deposits"] == statement["totals"]["releases"] == 30000
    totals = {k: v for k, v in zip(
        await free_page.locator(".totals dt").all_inner_texts(), await free_page.locator(".totals dd").all_inner_texts())}
    assert totals["Deposited into escrow"] == "$300.00"
    assert totals["Released from escrow"] == "$300.00"
    assert totals["Platform service fees"] == f"${fee / 100:.2f}"
    assert totals["Paid to the freelancer"] == f"${(30000 - fee) / 100:.2f}"
    assert totals["Still in escrow"] == "$0.00"
    assert await free_page.locator(".reconcile").inner_text() == "Reconciles with the ledger to the cent."
    # The page's lines are the ledger's entries.
    assert await free_page.locator(".statement-lines tbody tr").count() == len({p["entry"] for p in ledger["postings"]})
    await free_page.screenshot(path=str(artifact("statement.png")), full_page=True)
