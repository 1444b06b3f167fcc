"""The room log's store statement runs on the driver connection (workroom/db/driver.py): inside the
command's transaction, with its types' processing, and failing as SQLAlchemy would."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import Integer, bindparam, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from workroom.db.base import UTCDateTime
from workroom.db.driver import DriverStatement
from workroom.rooms.log import lock_room
from workroom.rooms.models import Event
from workroom.services import Services
from tests.people import Api


def _statement(services: Services, statement: object) -> DriverStatement:
    return DriverStatement(statement, services.db.engine.dialect)


async def test_values_go_in_and_come_out_through_their_types(pg_services: Services) -> None:
    echo = _statement(pg_services, select(bindparam("at", type_=UTCDateTime()).label("at"),
                                          bindparam("n", type_=Integer()).label("n")))
    at = datetime(2026, 3, 1, 12, 30, tzinfo=timezone(timedelta(hours=2)))
    async with pg_services.transaction() as tx:
        await tx.session.execute(text("SELECT 1"))
        row = await echo.fetchrow(tx.session, {"at": at, "n": 7})
        # UTCDateTime refuses a naive datetime, here as through the session.
        with pytest.raises(ValueError, match="naive"):
            await echo.fetchrow(tx.session, {"at": datetime(2026, 3, 1, 12, 30), "n": 7})
    assert row == {"at": at, "n": 7} and row["at"].tzinfo == timezone.utc


async def test_a_broken_constraint_is_sqlalchemys_integrity_error_and_nothing_is_kept(pg_api: Api) -> None:
    pg_services = pg_api.services
    room = (await pg_api.room()).id
    first = Event.__table__.select().where(Event.room_id == room, Event.seq == 1)
    copy = _statement(pg_services, Event.__table__.insert().from_select(
        list(Event.__table__.c.keys()), first.with_only_columns(*Event.__table__.c)))
    with pytest.raises(IntegrityError):
        async with pg_services.transaction() as tx:
            await lock_room(tx, room)
            await copy.fetchrow(tx.session, {})
    async with pg_services.transaction() as tx:
        head = (await lock_room(tx, room)).head_seq
        stored = (await tx.session.execute(select(Event.seq).where(Event.room_id == room))).scalars().all()
    assert stored == list(range(1, head + 1))


async def test_it_refuses_to_run_before_the_transaction_has_begun(pg_services: Services) -> None:
    # The session sends BEGIN with its first statement; run first, the statement would commit on its own.
    echo = _statement(pg_services, select(bindparam("n", type_=Integer()).label("n")))
    with pytest.raises(RuntimeError, match="inside the session's transaction"):
        async with pg_services.transaction() as tx:
            await echo.fetchrow(tx.session, {"n": 1})


async def test_a_value_the_driver_cannot_send_is_a_dbapi_error(pg_services: Services) -> None:
    echo = _statement(pg_services, select(bindparam("n", type_=Integer()).label("n")))
    with pytest.raises(DBAPIError):
        async with pg_services.transaction() as tx:
            await tx.session.execute(text("SELECT 1"))
            await echo.fetchrow(tx.session, {"n": "seven"})
