"""Every billing deadline at its edge, on the test clock: overdue on day 15 (not 14), reminders,
auto-release on day 30 (not 29), the dormancy procedure on days 60, 67 and 74 after the last
milestone date, and the requests that must never auto-release (voided, disputed)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from tests.billing_steps import advance, fresh_tokens, milestones, ok, state, types
from tests.people import Api, RoomSetup
from workroom.billing import release_deadlines
from workroom.services import Services


async def events_of(api: Api, room: RoomSetup, type_: str) -> list[dict[str, Any]]:
    return [e for e in await api.events(room, room["client"]) if e["type"] == type_]


async def set_clock(api: Api, room: RoomSetup, when: datetime) -> None:
    await api.ok("POST", "/api/test-clock", json={"now": when.isoformat()})
    fresh_tokens(api, room)


async def test_overdue_on_day_15_not_14_with_reminders_to_both(api: Api) -> None:
    room = await api.room()
    m = room.milestones[0]["id"]
    await ok(api, room, room["client"], m, "fund")
    await ok(api, room, room["freelancer"], m, "request-release")
    await advance(api, room, "P14D")
    assert await events_of(api, room, "milestone.overdue") == []
    assert (await milestones(api, room))[m]["overdue"] is False
    await advance(api, room, "P1D")
    [overdue] = await events_of(api, room, "milestone.overdue")
    assert overdue["data"]["notify"] == ["client", "freelancer"] and overdue["actor"]["id"] == "system"
    assert (await milestones(api, room))[m]["overdue"] is True


async def test_client_reminders_then_auto_release_on_day_30_not_29(api: Api) -> None:
    room = await api.room()
    m = room.milestones[0]["id"]
    await ok(api, room, room["client"], m, "fund")
    await ok(api, room, room["freelancer"], m, "request-release")
    await advance(api, room, "P29D")
    reminders = await events_of(api, room, "milestone.release_reminder")
    assert [r["data"]["days_left"] for r in reminders] == [7, 3, 1]
    assert all(r["data"]["notify"] == ["client"] for r in reminders)
    assert await state(api, room, m) == "release_requested"
    await advance(api, room, "P1D")
    [released] = await events_of(api, room, "milestone.released")
    assert released["data"]["reason"] == "auto_release" and released["data"]["amount"] == 30000
    assert released["data"]["net"] == 27000 and released["actor"]["id"] == "system"
    assert await state(api, room, m) == "released"
    await advance(api, room, "P30D")
    assert len(await events_of(api, room, "milestone.released")) == 1


async def test_voided_request_never_auto_releases_and_a_new_one_starts_its_own_clock(api: Api) -> None:
    room = await api.room()
    m = room.milestones[0]["id"]
    await ok(api, room, room["client"], m, "fund")
    await ok(api, room, room["freelancer"], m, "request-release")
    await advance(api, room, "P10D")
    await ok(api, room, room["freelancer"], m, "void-release")
    await advance(api, room, "P10D")
    await ok(api, room, room["freelancer"], m, "request-release")  # day 20: the new request's day 0
    await advance(api, room, "P25D")  # day 45: the first request would have gone overdue and auto-released
    assert await events_of(api, room, "milestone.released") == []
    assert len(await events_of(api, room, "milestone.overdue")) == 1  # the second request's day 15
    await advance(api, room, "P5D")  # day 50 = the second request's day 30
    assert len(await events_of(api, room, "milestone.released")) == 1


async def test_disputed_request_never_goes_overdue_or_auto_releases(api: Api) -> None:
    room = await api.room()
    m = room.milestones[0]["id"]
    await ok(api, room, room["client"], m, "fund")
    await ok(api, room, room["freelancer"], m, "request-release")
    await advance(api, room, "P3D")
    await ok(api, room, room["freelancer"], m, "dispute", reason="No answer from the client")
    await advance(api, room, "P40D")
    assert await state(api, room, m) == "disputed"
    kinds = await types(api, room)
    assert "milestone.overdue" not in kinds and "milestone.released" not in kinds
    assert "milestone.release_reminder" not in kinds


LAST_DATE = datetime(2026, 3, 10, tzinfo=timezone.utc)


def day(n: int) -> datetime:
    return LAST_DATE + timedelta(days=n)


async def dormant_room(api: Api) -> tuple[RoomSetup, list[str]]:
    room = await api.room(milestones=[{"title": f"Part {i}", "amount": 10000 * i, "due_date": "2026-03-10"}
                                      for i in (1, 2, 3)])
    ids = [m["id"] for m in room.milestones]
    for m in ids:
        await ok(api, room, room["client"], m, "fund")  # activity on day -8: before the last milestone date
    return room, ids


async def test_dormancy_edges_and_outcomes_with_release_requests_30_and_29_days_old(api: Api) -> None:
    room, (m1, m2, m3) = await dormant_room(api)
    await set_clock(api, room, day(44))
    await ok(api, room, room["freelancer"], m1, "request-release")  # 30 days old on day 74
    await set_clock(api, room, day(45))
    await ok(api, room, room["freelancer"], m2, "request-release")  # 29 days old on day 74
    await set_clock(api, room, day(59))
    assert await events_of(api, room, "escrow.dormant") == []
    await set_clock(api, room, day(60))
    [dormant] = await events_of(api, room, "escrow.dormant")
    assert dormant["data"]["notify"] == ["client"] and dormant["data"]["in_escrow"] == 60000
    await set_clock(api, room, day(66))
    assert await events_of(api, room, "escrow.dormancy_notice") == []
    await set_clock(api, room, day(67))
    [notice] = await events_of(api, room, "escrow.dormancy_notice")
    assert notice["data"]["notify"] == ["freelancer"]
    await set_clock(api, room, day(73))
    assert await events_of(api, room, "escrow.dormancy_settled") == []
    assert {await state(api, room, m) for m in (m1, m2, m3)} == {"release_requested", "funded"}
    await set_clock(api, room, day(74))
    assert [await state(api, room, m) for m in (m1, m2, m3)] == ["released", "release_requested", "refunded"]
    [settled] = await events_of(api, room, "escrow.dormancy_settled")
    assert {o["milestone"]: o["outcome"] for o in settled["data"]["outcomes"]} == {
        m2: "release_later", m3: "refund"}  # m1's own 30-day timer released it a moment before
    await set_clock(api, room, day(75))
    assert await state(api, room, m2) == "released"
    book = await api.ok("GET", f"/api/rooms/{room.id}/ledger", room["client"])
    assert book["balances"]["client"] == -60000 + 30000 and book["balances"]["freelancer_earnings"] == 9000 + 18000


async def test_settlement_releases_a_30_day_old_request_at_once_and_leaves_disputes_frozen(
        api: Api, services: Services) -> None:
    room, (m1, m2, m3) = await dormant_room(api)
    await set_clock(api, room, day(14))
    await ok(api, room, room["client"], m2, "dispute", reason="frozen")  # activity: dormant on day 74
    await set_clock(api, room, day(44))
    await ok(api, room, room["freelancer"], m1, "request-release")
    async with services.transaction() as tx:  # as if m1's own 30-day timer had not been reached yet
        await services.timers.cancel(tx, release_deadlines.AUTO_RELEASE, f"{m1}:1")
    await set_clock(api, room, day(133))
    assert [await state(api, room, m) for m in (m1, m2, m3)] == ["released", "disputed", "refunded"]
    [settled] = await events_of(api, room, "escrow.dormancy_settled")
    assert {o["milestone"]: o["outcome"] for o in settled["data"]["outcomes"]} == {m1: "release", m3: "refund"}
    [released] = await events_of(api, room, "milestone.released")
    assert released["data"]["reason"] == "dormancy"


async def test_what_leaves_dormancy_and_what_restarts_the_wait(api: Api) -> None:
    room, (m1, m2, m3) = await dormant_room(api)
    await set_clock(api, room, day(60))
    assert len(await events_of(api, room, "escrow.dormant")) == 1
    await set_clock(api, room, day(63))
    await api.ok("POST", f"/api/rooms/{room.id}/status-reports", room["freelancer"],
                 json={"summary": "Still here", "milestones": []})  # activity: the 7-day wait restarts
    await set_clock(api, room, day(69))
    assert await events_of(api, room, "escrow.dormancy_notice") == []
    await set_clock(api, room, day(70))
    assert len(await events_of(api, room, "escrow.dormancy_notice")) == 1
    await set_clock(api, room, day(72))
    await ok(api, room, room["client"], m1, "release", amount=5000)  # a release: the job leaves dormancy
    await set_clock(api, room, day(131))
    assert await events_of(api, room, "escrow.dormancy_settled") == []
    assert len(await events_of(api, room, "escrow.dormant")) == 1
    await set_clock(api, room, day(132))
    assert len(await events_of(api, room, "escrow.dormant")) == 2
