"""PostgreSQL concurrency: money moves once however many requests and workers race for it."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from tests.billing_steps import fresh_tokens, ledger, ok, types
from tests.conftest import make_settings
from tests.people import Api
from workroom.billing.models import LedgerEntry
from workroom.clock import TestClock
from workroom.services import Services
from workroom.timers import Timer


async def worker(url: str, var: Path, now: TestClock) -> Services:
    services = Services(make_settings(url, var), clock=TestClock(now.now()))
    await services.start()
    return services


async def test_50_concurrent_releases_with_auto_release_and_retries_release_once(
        pg_api: Api, postgres_url: str, tmp_path: Path) -> None:
    api, services = pg_api, pg_api.services
    room = await api.room()
    m = room.milestones[0]["id"]
    await ok(api, room, room["client"], m, "fund")
    await ok(api, room, room["freelancer"], m, "request-release")
    assert isinstance(services.clock, TestClock)
    services.clock.advance(timedelta(days=30))  # the auto-release is due, but no worker has run yet
    fresh_tokens(api, room)
    other = await worker(postgres_url, tmp_path / "w2", services.clock)
    path = f"/api/rooms/{room.id}/milestones/{m}/release"

    async def client_release(i: int) -> int:
        headers = {"Idempotency-Key": f"key-{i % 5}"} if i % 3 else {}
        response = await api.call("POST", path, room["client"], json={}, headers=headers)
        assert response.status_code in (200, 201, 409), response.text
        if response.status_code == 409:
            assert response.json()["error"]["code"] == "already_released"
        return response.status_code

    try:
        outcomes = await asyncio.gather(
            *(client_release(i) for i in range(40)),
            *(s.timers.run_due(s) for s in [services, other] * 5))
    finally:
        await other.stop()
    statuses = [o for o in outcomes[:40]]
    assert statuses.count(201) <= 1
    kinds = await types(api, room)
    assert kinds.count("milestone.released") == 1
    book = await ledger(api, room)
    assert book["balances"] == {"client": -30000, f"escrow:{m}": 0, "freelancer_earnings": 27000,
                                "platform_fees": 3000}
    async with services.transaction() as tx:
        releases = await tx.session.scalar(select(func.count()).select_from(LedgerEntry).where(
            LedgerEntry.room_id == room.id, LedgerEntry.kind == "release"))
    assert releases == 1


async def test_two_workers_racing_the_same_timers_fire_each_once(
        pg_api: Api, postgres_url: str, tmp_path: Path) -> None:
    api, services = pg_api, pg_api.services
    rooms = []
    for _ in range(8):
        room = await api.room()
        for m in room.milestones:
            await ok(api, room, room["client"], m["id"], "fund")
            await ok(api, room, room["freelancer"], m["id"], "request-release")
        rooms.append(room)
    assert isinstance(services.clock, TestClock)
    workers = [await worker(postgres_url, tmp_path / f"w{i}", services.clock) for i in range(2)]
    try:
        for days in (15, 8, 4, 2, 1):  # day 15 overdue, reminders on 23, 27, 29, auto-release on 30
            for w in workers:
                assert isinstance(w.clock, TestClock)
                w.clock.advance(timedelta(days=days))
            fired = await asyncio.gather(*(w.timers.run_due(w) for w in workers for _ in range(3)))
            assert sum(fired) == len(rooms) * 2  # one timer per milestone at each of these dates
    finally:
        for w in workers:
            await w.stop()
    services.clock.advance(timedelta(days=30))
    for room in rooms:
        fresh_tokens(api, room)
        kinds = await types(api, room)
        assert kinds.count("milestone.overdue") == 2
        assert kinds.count("milestone.release_reminder") == 6
        assert kinds.count("milestone.released") == 2
    async with services.transaction() as tx:
        unfired = await tx.session.scalar(select(func.count()).select_from(Timer).where(
            Timer.fired_at.is_(None), Timer.cancelled_at.is_(None), Timer.kind.like("billing.release%")))
        assert unfired == 0
