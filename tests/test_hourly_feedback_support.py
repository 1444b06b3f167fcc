"""An hourly contract: a paid weekly invoice is a payment for the feedback rules and in the
support research summary, and logged hours count as delivered work."""

from __future__ import annotations

from datetime import timedelta

from tests.billing_steps import advance
from tests.conftest import START
from tests.people import Api, RoomSetup


async def hourly_room_with_paid_week(api: Api) -> RoomSetup:
    room = await api.room(kind="hourly", hourly_rate=5000, weekly_limit_hours=20, support=True)
    await advance(api, room, "PT6H")
    await api.ok("POST", f"/api/rooms/{room.id}/timesheet", room["freelancer"], json={
        "start": START.isoformat(), "end": (START + timedelta(hours=6)).isoformat(), "memo": "Logo sketches"})
    await advance(api, room, "P6DT18H")  # day 7: the week ended, its invoice is issued
    [invoice] = (await api.ok("GET", f"/api/rooms/{room.id}/invoices", room["client"]))["invoices"]
    await api.ok("POST", f"/api/rooms/{room.id}/invoices/{invoice['id']}/approve", room["client"])
    return room


async def test_paid_hourly_invoice_counts_in_research(api: Api) -> None:
    room = await hourly_room_with_paid_week(api)
    case = await api.ok("POST", f"/api/rooms/{room.id}/cases", room["support"],
                        json={"complaint": "Hours look high", "wants": "A credit", "disputed_amount": 5000})
    research = case["research"]
    assert research["contract"]["kind"] == "hourly"
    assert research["money"]["total_spend"] == 30000
    assert research["parties"]["client"]["last_payment"]["kind"] == "hourly_payment"
    assert any("hourly work logged" in line for line in research["work_delivered"]["evidence"])
    assert research["courtesy_credit"]["suggested"] == 1500


async def test_paid_hourly_invoice_opens_mid_contract_feedback(api: Api) -> None:
    room = await hourly_room_with_paid_week(api)
    await advance(api, room, "P22D")  # day 29
    early = await api.call("POST", f"/api/rooms/{room.id}/feedback", room["client"],
                           json={"rating": 5, "comment": "Steady hours"})
    assert early.status_code == 409 and early.json()["error"]["code"] == "contract_too_new"
    await advance(api, room, "P1D")  # day 30, the invoice paid 23 days ago
    given = await api.ok("POST", f"/api/rooms/{room.id}/feedback", room["client"],
                         json={"rating": 5, "comment": "Steady hours"})
    assert given["data"]["kind"] == "mid_contract"
