"""The worker's timers (workroom/timers.py): a handler that fails loses only what it wrote itself,
its timer is retried later, and the timers after it still fire."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.people import Api
from workroom.clock import TestClock
from workroom.rooms.log import SYSTEM, lock_room
from workroom.services import Tx
from workroom.timers import Timer


async def test_a_failing_handler_loses_only_its_own_writes_and_the_next_timer_still_fires(api: Api) -> None:
    services = api.services
    setup = await api.room()

    async def note(tx: Tx, timer: Timer, body: str) -> None:
        assert timer.room_id is not None
        room = await lock_room(tx, timer.room_id)
        await services.log.append(tx, room, "message.posted", SYSTEM, {"body": body, "files": []}, source="system")

    async def breaks(tx: Tx, timer: Timer) -> None:
        await note(tx, timer, "written, then the handler broke")
        raise RuntimeError("handler broke")

    async def works(tx: Tx, timer: Timer) -> None:
        await note(tx, timer, "kept")

    services.timers.handlers.update({"test.breaks": breaks, "test.works": works})
    async with services.transaction() as tx:
        await services.timers.schedule(tx, "test.breaks", "one", tx.now, room_id=setup.id)
        await services.timers.schedule(tx, "test.works", "two", tx.now + timedelta(seconds=1), room_id=setup.id)
    assert isinstance(services.clock, TestClock)
    services.clock.advance(timedelta(seconds=1))

    assert await services.timers.run_due(services) == 2

    events = await api.events(setup, setup["client"])
    assert [e["data"]["body"] for e in events if e["type"] == "message.posted"] == ["kept"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    async with services.transaction() as tx:
        broken = await tx.session.scalar(select(Timer).where(Timer.kind == "test.breaks"))
        worked = await tx.session.scalar(select(Timer).where(Timer.kind == "test.works"))
    assert broken is not None and worked is not None
    assert (broken.fired_at, broken.attempts) == (None, 1) and "handler broke" in (broken.last_error or "")
    assert broken.due_at > services.clock.now()  # retried later, not in a loop now
    assert worked.fired_at == services.clock.now()
