"""Terms changes, cancelling an active job, and hourly work: diary, weekly invoice, review."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.billing_steps import advance, ledger, milestones, ok, state, types
from tests.people import Api


async def test_terms_change_applies_when_the_other_party_accepts(api: Api) -> None:
    room = await api.room()
    m1, m2 = (m["id"] for m in room.milestones)
    await ok(api, room, room["client"], m1, "fund")
    path = f"/api/rooms/{room.id}/terms"
    locked = await api.call("POST", path, room["freelancer"], json={"milestones": [
        {"id": m1, "title": "Concepts", "amount": 99999, "due_date": "2026-03-20"}]})
    assert (locked.status_code, locked.json()["error"]["code"]) == (409, "milestone_funded")
    proposed = await api.ok("POST", path, room["freelancer"], json={"milestones": [
        {"id": m1, "title": "Concepts", "amount": 30000, "due_date": "2026-03-25"},
        {"title": "Extra banner", "amount": 15000, "due_date": "2026-05-01"}], "note": "drop final art, add banner"})
    assert proposed["type"] == "terms.proposed"
    terms_id = proposed["data"]["terms"]
    second = await api.call("POST", path, room["client"], json={"milestones": []})
    assert second.status_code == 409 and second.json()["error"]["code"] == "terms_pending"
    own = await api.call("POST", f"{path}/{terms_id}/accept", room["freelancer"])
    assert own.status_code == 403 and own.json()["error"]["code"] == "own_proposal"
    accepted = await api.ok("POST", f"{path}/{terms_id}/accept", room["client"])
    assert [m["title"] for m in accepted["data"]["milestones"]] == ["Concepts", "Extra banner"]
    view = await milestones(api, room)
    assert view[m2]["state"] == "removed" and view[m1]["due_date"] == "2026-03-25"
    again = await api.call("POST", f"{path}/{terms_id}/decline", room["client"])
    assert again.status_code == 409 and again.json()["error"]["code"] == "terms_answered"
    later = await api.ok("POST", path, room["client"], json={"milestones": [
        {"id": m1, "title": "Concepts", "amount": 30000, "due_date": "2026-04-30"}]})
    declined = await api.ok("POST", f"{path}/{later['data']['terms']}/decline", room["freelancer"])
    assert declined["type"] == "terms.declined"


async def test_cancellation_confirmed_refunds_and_releases_the_rest(api: Api) -> None:
    room = await api.room()
    m1, m2 = (m["id"] for m in room.milestones)
    await ok(api, room, room["client"], m1, "fund")
    await ok(api, room, room["client"], m2, "fund")
    too_much = await api.call("POST", f"/api/rooms/{room.id}/cancel", room["client"],
                              json={"reason": "x", "refund": 100001})
    assert too_much.status_code == 409 and too_much.json()["error"]["code"] == "exceeds_escrow"
    request = await api.ok("POST", f"/api/rooms/{room.id}/cancel", room["client"],
                           json={"reason": "Project shelved", "refund": 80000})
    assert request["data"]["release_to_freelancer"] == 20000
    own = await api.call("POST", f"/api/rooms/{room.id}/cancel/confirm", room["client"])
    assert own.status_code == 403
    done = await api.ok("POST", f"/api/rooms/{room.id}/cancel/confirm", room["freelancer"])
    assert done["type"] == "job.cancelled" and (done["data"]["refunded"], done["data"]["released"]) == (80000, 20000)
    assert (await api.ok("GET", f"/api/rooms/{room.id}", room["client"]))["status"] == "cancelled"
    assert [await state(api, room, m) for m in (m1, m2)] == ["released", "refunded"]
    doc = await api.ok("GET", f"/api/rooms/{room.id}/statement", room["client"])
    assert doc["closing"] is True and doc["reconciliation"]["reconciles"] is True
    assert (doc["totals"]["refunds"], doc["totals"]["releases"], doc["totals"]["fees"]) == (80000, 20000, 2000)
    issued = (await api.events(room, room["freelancer"]))[-1]
    assert issued["type"] == "escrow.statement_issued" and issued["data"]["totals"] == doc["totals"]
    assert issued["data"]["reconciles"] is True and issued["data"]["closing"] is True


async def test_cancellation_rejected_puts_the_job_into_dispute(api: Api) -> None:
    room = await api.room()
    m1 = room.milestones[0]["id"]
    await ok(api, room, room["client"], m1, "fund")
    await ok(api, room, room["freelancer"], m1, "request-release")
    await api.ok("POST", f"/api/rooms/{room.id}/cancel", room["freelancer"], json={"reason": "Client vanished"})
    rejected = await api.ok("POST", f"/api/rooms/{room.id}/cancel/reject", room["client"])
    assert rejected["type"] == "job.cancellation_rejected"
    assert (await api.ok("GET", f"/api/rooms/{room.id}", room["client"]))["status"] == "disputed"
    assert await state(api, room, m1) == "disputed"
    await advance(api, room, "P31D")
    assert await state(api, room, m1) == "disputed"  # frozen: no auto-release
    nothing = await api.call("POST", f"/api/rooms/{room.id}/cancel/confirm", room["freelancer"])
    assert nothing.status_code == 409 and nothing.json()["error"]["code"] == "no_cancellation_request"


async def test_hourly_week_invoiced_capped_disputed_and_paid(api: Api) -> None:
    room = await api.room(kind="hourly", hourly_rate=5000, weekly_limit_hours=10)
    # START is Monday 2026-03-02 09:00 UTC; log 12 hours this week, then let the week end.
    await advance(api, room, "P2D")
    path = f"/api/rooms/{room.id}/timesheet"
    monday = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
    for start_h, hours in ((0, 6), (24, 6)):
        start = monday + timedelta(hours=start_h)
        logged = await api.ok("POST", path, room["freelancer"], json={
            "start": start.isoformat(), "end": (start + timedelta(hours=hours)).isoformat(), "memo": "Logo work",
            "snapshots": [{"at": start.isoformat(), "keystrokes": 120, "mouse": 40}]})
        assert logged["type"] == "timesheet.submitted"
    overlap = await api.call("POST", path, room["freelancer"], json={
        "start": (monday + timedelta(hours=2)).isoformat(), "end": (monday + timedelta(hours=3)).isoformat(),
        "memo": "again"})
    assert overlap.status_code == 409 and overlap.json()["error"]["code"] == "overlapping_time"
    by_client = await api.call("POST", path, room["client"], json={
        "start": monday.isoformat(), "end": (monday + timedelta(hours=1)).isoformat(), "memo": "x"})
    assert by_client.status_code == 403
    await advance(api, room, "P5D")  # Monday 2026-03-09 09:00: the week ended at 00:00
    [invoice] = (await api.ok("GET", f"/api/rooms/{room.id}/invoices", room["client"]))["invoices"]
    assert (invoice["hours"], invoice["billable_hours"], invoice["amount"]) == (12, 10, 50000)
    assert "invoice.issued" in await types(api, room)
    ipath = f"/api/rooms/{room.id}/invoices/{invoice['id']}"
    disputed = await api.ok("POST", f"{ipath}/dispute", room["client"], json={"hours": 2, "reason": "Not our logo"})
    assert disputed["data"]["undisputed_amount"] == 40000
    paid = await api.ok("POST", f"{ipath}/approve", room["client"])
    assert (paid["data"]["amount"], paid["data"]["fee"], paid["data"]["net"]) == (40000, 4000, 36000)
    nothing = await api.call("POST", f"{ipath}/approve", room["client"])
    assert nothing.status_code == 409 and nothing.json()["error"]["code"] == "nothing_to_pay"
    conceded = await api.ok("POST", f"{ipath}/concede", room["freelancer"])
    assert conceded["data"]["amount"] == 40000
    [after] = (await api.ok("GET", f"/api/rooms/{room.id}/invoices", room["client"]))["invoices"]
    assert (after["state"], after["paid_amount"]) == ("paid", 40000)
    book = await ledger(api, room)
    assert book["balances"] == {"client": -40000, "freelancer_earnings": 36000, "platform_fees": 4000}
    late = await api.call("POST", path, room["freelancer"], json={
        "start": (monday + timedelta(hours=50)).isoformat(), "end": (monday + timedelta(hours=51)).isoformat(),
        "memo": "forgot this"})
    assert late.status_code == 409 and late.json()["error"]["code"] == "week_invoiced"
