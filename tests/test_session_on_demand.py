"""A transaction's session opens only when something asks for it (workroom/db/session_on_demand.py):
objects read on the driver before then are the transaction's all the same, and what a command changes
in them is written."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select, update

from workroom.accounts import Account, account_for_token, find_by_email
from workroom.clock import TestClock
from workroom.rooms import commands
from workroom.rooms.access import seat
from workroom.rooms.log import lock_room
from workroom.rooms.models import Room
from workroom.reads import reading
from workroom.services import Services, Tx
from tests.conftest import START, make_settings
from tests.people import Api, RoomSetup


async def room_and_client(api: Api) -> tuple[RoomSetup, Account]:
    """A room, and its client's account (read in a transaction of its own)."""
    setup = await api.room()
    async with api.services.transaction() as tx:
        client = await find_by_email(tx.session, setup["client"].email)
    assert client is not None
    return setup, client


async def title_of(services: Services, room_id: str) -> str:
    async with services.transaction() as tx:
        return (await lock_room(tx, room_id)).title


async def new_room(services: Services) -> str:
    async with services.transaction() as tx:
        market = await account_for_token(tx, "a_market", "market@example.com", "Market", "service")
    room = await commands.create_room(services, market, commands.NewRoom(
        title="Logo redesign", kind="fixed", currency="USD", client=commands.NewParty("c@example.com", "Client"),
        freelancer=commands.NewParty("f@example.com", "Freelancer"), milestones=()))
    return room.id


async def test_a_change_to_an_object_read_on_the_driver_is_written_though_no_session_opened(api: Api) -> None:
    setup, client = await room_and_client(api)
    async with api.services.transaction() as tx:
        the_seat = await seat(tx, setup.id, client, lock=True)
        the_seat.room.title = "Changed before any session"
        assert tx.orm.is_open == api.services.db.is_sqlite  # PostgreSQL: read on the driver alone
    assert await title_of(api.services, setup.id) == "Changed before any session"


async def test_objects_read_before_the_session_opens_join_it_with_their_changes(api: Api) -> None:
    setup, client = await room_and_client(api)
    async with api.services.transaction() as tx:
        the_seat = await seat(tx, setup.id, client, lock=True)
        the_seat.room.title = "Changed, then the session opened"
        assert await tx.session.get(Room, setup.id) is the_seat.room
        # The session's query flushes first, so it sees the change as the database has it now.
        title = await tx.session.scalar(select(Room.title).where(Room.id == setup.id))
        assert title == "Changed, then the session opened"


async def test_a_row_read_twice_before_the_session_opens_is_one_object_with_the_newer_values(pg_api: Api) -> None:
    api = pg_api
    setup, client = await room_and_client(api)
    async with api.services.transaction() as tx:
        first = await seat(tx, setup.id, client)
        first.room.status = "complete"  # changed here, not yet written
        async with api.services.transaction() as other:  # meanwhile another command commits
            await other.session.execute(update(Room).where(Room.id == setup.id).values(title="Renamed meanwhile"))
        again = await seat(tx, setup.id, client, lock=True)
        assert again.room is first.room and not tx.orm.is_open
        assert (again.room.title, again.room.status) == ("Renamed meanwhile", "complete")


async def test_transactions_with_and_without_a_session_share_a_pooled_connection(
        postgres_url: str, tmp_path: Path) -> None:
    """One pooled connection, used in turn by transactions that open a session and ones that do not:
    each commits or rolls back only its own writes, and every connection goes back to the pool."""
    services = Services(make_settings(postgres_url, tmp_path / "var", WORKROOM_DB_POOL_SIZE="1"), clock=TestClock(START))
    await services.start()
    try:
        room_id = await new_room(services)

        async def retitle(tx: Tx, title: str, *, with_session: bool) -> None:
            if with_session:
                await tx.session.execute(update(Room).where(Room.id == room_id).values(title=title))
            else:
                assert tx.driver is not None
                await tx.driver.execute("UPDATE rooms SET title = $1 WHERE id = $2", title, room_id)

        for with_session in (True, False, True, False):
            label = "session" if with_session else "driver"
            with pytest.raises(RuntimeError):
                async with services.transaction() as tx:
                    await retitle(tx, f"rolled back ({label})", with_session=with_session)
                    raise RuntimeError("after the write")
            assert await title_of(services, room_id) != f"rolled back ({label})"
            async with services.transaction() as tx:
                await retitle(tx, f"kept ({label})", with_session=with_session)
            assert await title_of(services, room_id) == f"kept ({label})"
        assert services.db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        await services.stop()


async def test_a_transaction_cancelled_in_the_middle_of_a_statement_keeps_nothing_and_its_connection_serves_on(
        postgres_url: str, tmp_path: Path) -> None:
    """A request cancelled while the database works (the client went away): its writes are rolled
    back, and the pool's one connection serves the next transactions."""
    services = Services(make_settings(postgres_url, tmp_path / "var", WORKROOM_DB_POOL_SIZE="1"), clock=TestClock(START))
    await services.start()
    try:
        room_id = await new_room(services)
        started = asyncio.Event()

        async def slow_retitle() -> None:
            async with services.transaction() as tx:
                assert tx.driver is not None
                await tx.driver.execute("UPDATE rooms SET title = 'never kept' WHERE id = $1", room_id)
                started.set()
                await tx.driver.execute("SELECT pg_sleep(30)")

        task = asyncio.create_task(slow_retitle())
        await started.wait()
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        for _ in range(3):
            assert await title_of(services, room_id) == "Logo redesign"
        assert services.db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        await services.stop()


async def test_no_session_opens_once_the_transaction_has_ended(pg_services: Services) -> None:
    """(On SQLite the session is the transaction's from its start, and ends with it.)"""
    async with pg_services.transaction() as tx:
        pass
    with pytest.raises(RuntimeError, match="the transaction has ended"):
        tx.session.add_all([])


async def test_reads_stand_alone_and_give_their_connection_back(postgres_url: str, tmp_path: Path) -> None:
    """A read (`workroom.reads`) is no transaction, on the driver or through a session opened for
    it: it holds no snapshot, and its connection goes back to the pool, ready for a transaction."""
    services = Services(make_settings(postgres_url, tmp_path / "var", WORKROOM_DB_POOL_SIZE="1"), clock=TestClock(START))
    await services.start()
    try:
        room_id = await new_room(services)
        for through_session in (False, True, False):
            async with reading(services) as tx:
                assert tx.driver is not None
                if through_session:
                    title = await tx.session.scalar(select(Room.title).where(Room.id == room_id))
                else:
                    title = await tx.driver.fetchval("SELECT title FROM rooms WHERE id = $1", room_id)
                assert not tx.driver.is_in_transaction()
            assert title == "Logo redesign"
            assert services.db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        async with services.transaction() as tx:
            assert tx.driver is not None and tx.driver.is_in_transaction()
    finally:
        await services.stop()
