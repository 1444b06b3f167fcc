"""The work, hours, feedback and support panels against the real server: each shows only what
my role may do now, and what one person does appears live for the other."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.browser.conftest import Pages, artifact, open_room
from tests.people import Api, RoomSetup

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def tab(page: object, name: str) -> None:
    await page.get_by_role("tab", name=name).click()  # type: ignore[attr-defined]


async def test_status_report_meeting_complete_reopen_and_cancellation(api: Api, pages: Pages) -> None:
    setup = await api.room(title="Work drill")
    concepts, final = setup.milestones
    client_page = await open_room(pages, setup["client"], setup.id)
    free_page = await open_room(pages, setup["freelancer"], setup.id)

    # Status report: only the freelancer has the form; the client sees progress bars live.
    assert await client_page.locator("summary:has-text('File a status report')").count() == 0
    await free_page.locator("summary:has-text('File a status report')").click()
    await free_page.get_by_label("Summary of the work").fill("Sketches done, colours next.")
    await free_page.get_by_label("Concepts: percent complete").fill("80")
    await free_page.get_by_label("Final art: percent complete").fill("10")
    assert await free_page.get_by_label(f"Add Concepts ($300.00) to billing").is_disabled()
    await free_page.get_by_role("button", name="Submit report").click()
    report = client_page.locator(".type-status_report-submitted")
    await report.wait_for()
    assert await report.locator("progress").evaluate_all("els => els.map(e => e.value)") == [80, 10]
    assert "Sketches done, colours next." in await report.inner_text()

    # Meeting: the invitee answers in the timeline; the inviter sees the answer live.
    await client_page.locator("summary:has-text('Invite to a meeting')").click()
    await client_page.get_by_label("Invite").select_option(setup["freelancer"].id)
    await client_page.get_by_label("Note (optional)").fill("Kick-off call")
    await client_page.get_by_role("button", name="Send invitation").click()
    invite = free_page.locator(".type-meeting-invited")
    await invite.get_by_role("button", name="Accept").click()
    await client_page.wait_for_selector(".type-meeting-accepted")
    await client_page.wait_for_selector(".type-meeting-invited .tag:has-text('Accepted')")
    assert await invite.get_by_role("button", name="Accept").count() == 0

    # Complete and reopen: either party completes, only the client reopens.
    await free_page.get_by_role("button", name="Mark the job complete").click()
    await client_page.wait_for_selector(".room-meta .status:has-text('Complete')")
    assert await free_page.get_by_role("button", name="Reopen the job").count() == 0
    await client_page.get_by_role("button", name="Reopen the job").click()
    await free_page.wait_for_selector(".room-meta .status:has-text('Working')")

    # Cancellation: the freelancer asks, the client confirms, both see the job cancelled.
    await free_page.locator("summary:has-text('Request cancellation')").click()
    await free_page.get_by_label("Reason").fill("The client changed direction.")
    await free_page.get_by_role("button", name="Send cancellation request").click()
    await client_page.wait_for_selector("text=asked to cancel the job")
    assert await free_page.get_by_role("button", name="Confirm cancellation").count() == 0
    await client_page.get_by_role("button", name="Confirm cancellation").click()
    await free_page.wait_for_selector(".room-meta .status:has-text('Cancelled')")
    assert await free_page.get_by_role("button", name="Mark the job complete").count() == 0


async def test_hourly_time_invoice_and_approval(api: Api, pages: Pages) -> None:
    setup = await api.room(kind="hourly", title="Hourly drill")
    now = datetime.fromisoformat((await api.ok("GET", "/api/test-clock"))["now"].replace("Z", "+00:00"))
    free_page = await open_room(pages, setup["freelancer"], setup.id)
    await tab(free_page, "Hours")
    await free_page.locator("summary:has-text('Log time')").click()
    start, end = now - timedelta(hours=3), now - timedelta(hours=1)
    if start.weekday() != end.weekday() or start.date() != end.date():
        start = end - timedelta(minutes=30)
    await free_page.get_by_label("Start", exact=True).fill(start.strftime("%Y-%m-%dT%H:%M"))
    await free_page.get_by_label("End", exact=True).fill(end.strftime("%Y-%m-%dT%H:%M"))
    await free_page.get_by_label("What you worked on").fill("Product page layout")
    await free_page.get_by_role("button", name="Add to work diary").click()
    await free_page.wait_for_selector(".type-timesheet-submitted")

    await api.advance("P8D")
    client_page = await open_room(pages, setup["client"], setup.id)
    await tab(client_page, "Hours")
    invoice = client_page.locator("li.invoice")
    await invoice.wait_for()
    assert "In review" in await invoice.inner_text()
    assert await free_page.get_by_role("button", name="Approve").count() == 0
    await invoice.get_by_role("button", name="Approve").click()
    await client_page.wait_for_selector("li.invoice:has-text('Paid')")
    await free_page.wait_for_selector(".type-invoice-paid")


async def paid_for_first_milestone(api: Api, setup: RoomSetup) -> None:
    concepts = setup.milestones[0]["id"]
    client = setup["client"]
    await api.ok("POST", f"/api/rooms/{setup.id}/milestones/{concepts}/fund", client, json={"payment_method": "verified"})
    await api.ok("POST", f"/api/rooms/{setup.id}/milestones/{concepts}/release", client, json={})


async def leave_feedback_from_the_panel(page: Any, rating: str, comment: str) -> None:
    await tab(page, "Feedback")
    await page.locator("summary:has-text('Leave feedback on this job')").click()
    await page.get_by_label("Rating").select_option(rating)
    await page.get_by_label("Comment (public)").fill(comment)
    await page.get_by_role("button", name="Publish feedback").click()
    await page.wait_for_selector("text=You have left your feedback on this job.")


async def test_final_feedback_from_the_panel_shows_for_the_other_party(api: Api, pages: Pages) -> None:
    setup = await api.room(title="Feedback drill")
    client, freelancer = setup["client"], setup["freelancer"]
    await paid_for_first_milestone(api, setup)
    await api.ok("POST", f"/api/rooms/{setup.id}/complete", client)

    free_page = await open_room(pages, freelancer, setup.id)
    await tab(free_page, "Feedback")
    client_page = await open_room(pages, client, setup.id)
    await leave_feedback_from_the_panel(client_page, "5", "Great concepts, on time.")
    await free_page.wait_for_selector(".feedback-list li:has-text('Great concepts, on time.')")
    assert await free_page.locator(".feedback-list .rating").get_attribute("aria-label") == "5 of 5 stars"

    # A private comment reaches staff only: nothing in the room, no form for the freelancer.
    assert await free_page.locator("summary:has-text('private comment')").count() == 0
    await client_page.locator("summary:has-text('Send a private comment to the platform')").click()
    await client_page.get_by_label("Private comment to the platform").fill("Slow to answer on weekends.")
    await client_page.get_by_role("button", name="Send privately").click()
    await client_page.wait_for_selector("text=Sent to the platform's staff.")
    assert "Slow to answer" not in await free_page.locator("main").inner_text()
    events = await api.events(setup, freelancer)
    assert not any("Slow to answer" in str(e["data"]) for e in events)


async def test_a_job_cancelled_after_a_release_offers_end_of_job_feedback(api: Api, pages: Pages) -> None:
    setup = await api.room(title="Cancelled drill")
    client, freelancer = setup["client"], setup["freelancer"]
    await paid_for_first_milestone(api, setup)
    await api.ok("POST", f"/api/rooms/{setup.id}/cancel", client, json={"reason": "Budget cut", "refund": 0})
    await api.ok("POST", f"/api/rooms/{setup.id}/cancel/confirm", freelancer)

    free_page = await open_room(pages, freelancer, setup.id)
    await leave_feedback_from_the_panel(free_page, "4", "Clear brief, paid for the concepts.")


async def test_support_agent_joins_from_the_console_opens_a_case_and_grants_the_suggested_credit(
        api: Api, pages: Pages) -> None:
    setup = await api.room(title="Support drill")
    concepts = setup.milestones[0]["id"]
    await api.ok("POST", f"/api/rooms/{setup.id}/milestones/{concepts}/fund", setup["client"],
                 json={"payment_method": "verified"})
    agent = api.person("agent-browser@support.example", "Sam Support", "support")
    client_page = await open_room(pages, setup["client"], setup.id)

    page = await pages.open(agent, "/#/support")
    await page.get_by_label("Room id").fill(setup.id)
    await page.get_by_role("button", name="Join room").click()
    await page.wait_for_selector(".room-title:has-text('Support drill')")
    await client_page.wait_for_selector(".type-support-joined")  # joining is visible to every member

    await tab(page, "Support")
    await page.locator("summary:has-text('Open a case')").click()
    await page.get_by_label("Complaint").fill("The freelancer stopped answering.")
    await page.get_by_label("What the client wants").fill("A partial refund")
    await page.get_by_role("button", name="Open case").click()
    research = page.locator(".research")
    await research.wait_for()
    text = await research.inner_text()
    assert "In escrow" in text and "$300.00" in text
    await page.locator("summary:has-text('Grant courtesy credit')").click()
    # 5% of the payments not refunded: $15.00 of the $300.00 funded.
    assert await page.get_by_label("Credit (USD)").input_value() == "15.00"
    await page.get_by_role("button", name="Grant credit").click()
    await client_page.wait_for_selector(".type-case-credit_granted")
    await page.screenshot(path=str(artifact("support-console.png")), full_page=True)


async def test_terms_change_proposed_by_one_party_and_accepted_by_the_other(api: Api, pages: Pages) -> None:
    setup = await api.room(title="Terms drill")
    final = setup.milestones[1]
    client_page = await open_room(pages, setup["client"], setup.id)
    free_page = await open_room(pages, setup["freelancer"], setup.id)
    for page in (client_page, free_page):
        await tab(page, "Money")
    await free_page.locator("summary:has-text('Propose new terms')").click()
    row = free_page.locator(f"fieldset[data-milestone='{final['id']}']")
    await row.get_by_label("Amount (USD)").fill("800.00")
    await free_page.get_by_role("button", name="Propose terms").click()

    await client_page.wait_for_selector("h3:has-text('Terms change proposed')")
    assert "Final art: $800.00" in await client_page.locator(".panel.money").inner_text()
    assert await free_page.get_by_role("button", name="Accept terms").count() == 0  # not my own proposal
    await client_page.get_by_role("button", name="Accept terms").click()
    item = f"li.milestone[data-milestone='{final['id']}'] .amount"
    await free_page.wait_for_selector(f"{item}:has-text('$800.00')")
    await client_page.wait_for_selector(f"{item}:has-text('$800.00')")
    assert await client_page.locator("h3:has-text('Terms change proposed')").count() == 0
