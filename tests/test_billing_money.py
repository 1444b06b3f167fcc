"""Money flows through the API: funding (verified and not), release (full, partial, via status
report), refunds, idempotent retries, the ledger and the statement."""

from __future__ import annotations

from datetime import timedelta

from tests.billing_steps import act, advance, ledger, milestones, ok, state, types
from tests.people import Api


async def test_unverified_funding_waits_for_the_gateway(api: Api) -> None:
    room = await api.room()
    m = room.milestones[0]["id"]
    pending = await ok(api, room, room["client"], m, "fund", payment_method="unverified")
    assert pending["type"] == "milestone.funding_pending"
    assert await state(api, room, m) == "pending" and (await ledger(api, room))["postings"] == []
    early = await act(api, room, room["freelancer"], m, "request-release")
    assert early.status_code == 409 and early.json()["error"]["code"] == "invalid_milestone_state"
    payment = pending["data"]["payment"]
    by_client = await api.call("POST", f"/api/payments/{payment}/verified", room["client"])
    assert by_client.status_code == 403
    done = await api.ok("POST", f"/api/payments/{payment}/verified", api.marketplace)
    assert done["status"] == "completed"
    again = await api.ok("POST", f"/api/payments/{payment}/verified", api.marketplace)
    assert again["completed_at"] == done["completed_at"]
    view = (await milestones(api, room))[m]
    assert (view["state"], view["in_escrow"]) == ("funded", 30000)
    assert (await types(api, room)).count("milestone.funded") == 1


async def test_full_release_pays_freelancer_less_fee_and_ledger_balances(api: Api) -> None:
    room = await api.room()
    m = room.milestones[0]["id"]
    funded = await ok(api, room, room["client"], m, "fund")
    assert funded["type"] == "milestone.funded" and funded["data"]["amount"] == 30000
    requested = await ok(api, room, room["freelancer"], m, "request-release")
    assert requested["data"]["invoice"] and requested["data"]["auto_release_at"].startswith("2026-04-01")
    released = await ok(api, room, room["client"], m, "release")
    data = released["data"]
    assert (data["amount"], data["fee"], data["net"], data["remaining"]) == (30000, 3000, 27000, 0)
    book = await ledger(api, room)
    assert book["balances"] == {"client": -30000, f"escrow:{m}": 0, "freelancer_earnings": 27000,
                                "platform_fees": 3000}
    by_entry: dict[int, int] = {}
    for posting in book["postings"]:
        by_entry[posting["entry"]] = by_entry.get(posting["entry"], 0) + posting["amount"]
        assert set(posting) >= {"entry", "account", "amount", "at"}
    assert set(by_entry.values()) == {0} and sum(p["amount"] for p in book["postings"]) == 0
    twice = await act(api, room, room["client"], m, "release")
    assert (twice.status_code, twice.json()["error"]["code"]) == (409, "already_released")


async def test_partial_release_leaves_the_rest_funded(api: Api) -> None:
    room = await api.room()
    m = room.milestones[1]["id"]
    await ok(api, room, room["client"], m, "fund")
    too_much = await act(api, room, room["client"], m, "release", amount=70001)
    assert (too_much.status_code, too_much.json()["error"]["code"]) == (409, "exceeds_escrow")
    part = await ok(api, room, room["client"], m, "release", amount=20000)
    assert part["data"]["remaining"] == 50000
    view = (await milestones(api, room))[m]
    assert (view["state"], view["in_escrow"], view["released_amount"]) == ("funded", 50000, 20000)
    await ok(api, room, room["freelancer"], m, "refund", amount=10000, reason="scope cut")
    await ok(api, room, room["client"], m, "release")
    view = (await milestones(api, room))[m]
    assert (view["state"], view["in_escrow"], view["released_amount"], view["refunded_amount"]) == \
        ("released", 0, 60000, 10000)


async def test_retried_release_with_the_same_key_moves_money_once(api: Api) -> None:
    room = await api.room()
    m = room.milestones[0]["id"]
    await ok(api, room, room["client"], m, "fund", key="fund-1")
    again = await act(api, room, room["client"], m, "fund", key="fund-1")
    assert again.status_code == 200
    first = await act(api, room, room["client"], m, "release", key="rel-1")
    retry = await act(api, room, room["client"], m, "release", key="rel-1")
    assert first.status_code == 201 and retry.status_code == 200 and first.json() == retry.json()
    assert (await ledger(api, room))["balances"]["freelancer_earnings"] == 27000
    assert (await types(api, room)).count("milestone.released") == 1


async def test_status_report_add_to_billing_requests_release_with_pro_forma_invoice(api: Api) -> None:
    room = await api.room()
    m = room.milestones[0]["id"]
    path = f"/api/rooms/{room.id}/status-reports"
    body = {"summary": "Concepts delivered", "milestones": [{"id": m, "percent_complete": 100, "add_to_billing": True}]}
    unfunded = await api.call("POST", path, room["freelancer"], json=body)
    assert (unfunded.status_code, unfunded.json()["error"]["code"]) == (409, "invalid_milestone_state")
    await ok(api, room, room["client"], m, "fund")
    report = await api.ok("POST", path, room["freelancer"], json=body)
    assert report["data"]["billing"]["total"] == 30000
    assert (await types(api, room))[-2:] == ["status_report.submitted", "milestone.release_requested"]
    view = (await milestones(api, room))[m]
    assert view["state"] == "release_requested" and view["invoice"]
    invoices = (await api.ok("GET", f"/api/rooms/{room.id}/invoices", room["client"]))["invoices"]
    assert [(i["kind"], i["amount"], i["milestone"]) for i in invoices] == [("pro_forma", 30000, m)]


async def test_dispute_freezes_until_an_outcome(api: Api) -> None:
    room = await api.room(support=True)
    m = room.milestones[0]["id"]
    await ok(api, room, room["client"], m, "fund")
    await ok(api, room, room["freelancer"], m, "request-release")
    await ok(api, room, room["client"], m, "dispute", reason="Colours are wrong")
    await advance(api, room, "P31D")
    assert await state(api, room, m) == "disputed"  # no auto-release while disputed
    await ok(api, room, room["support"], m, "refund", amount=10000, reason="Split after review")
    await ok(api, room, room["client"], m, "release")
    book = await ledger(api, room)
    assert book["balances"]["client"] == -20000 and book["balances"]["freelancer_earnings"] == 18000


async def test_statement_reconciles_and_escapes_user_text(api: Api) -> None:
    room = await api.room(milestones=[{"title": "<script>alert(1)</script> & co", "amount": 12345,
                                       "due_date": "2026-04-01"}])
    m = room.milestones[0]["id"]
    await ok(api, room, room["client"], m, "fund")
    await ok(api, room, room["client"], m, "release", amount=10000)
    await ok(api, room, room["freelancer"], m, "refund", reason="rest not needed")
    doc = await api.ok("GET", f"/api/rooms/{room.id}/statement", room["freelancer"])
    assert doc["reconciliation"]["reconciles"] is True
    assert doc["totals"] == {"deposits": 12345, "releases": 10000, "fees": 1000, "paid_to_freelancer": 9000,
                             "refunds": 2345, "credits": 0, "hourly_payments": 0, "in_escrow": 0}
    assert [line["kind"] for line in doc["lines"]] == ["funding", "release", "refund"]
    page = await api.call("GET", f"/api/rooms/{room.id}/statement?format=html", room["client"])
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page.text
    assert "123.45 USD" in page.text and "Reconciles with the ledger to the cent." in page.text
    guest_room = await api.room(guest_for=timedelta(days=5))
    hidden = await api.call("GET", f"/api/rooms/{guest_room.id}/statement", guest_room["guest"])
    assert hidden.status_code == 403
