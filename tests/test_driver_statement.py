"""Prebuilt statements run on the transaction's own driver connection (workroom/db/driver.py): inside
the command's transaction, with their types' processing, failing as SQLAlchemy would; and the rows
they read become the session's objects."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import ForeignKey, Integer, String, bindparam, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from workroom.accounts import find_by_email
from workroom.db.base import UTCDateTime
from workroom.db.driver import DriverStatement, loaded
from workroom.db.session_on_demand import SessionOnDemand
from workroom.rooms.access import seat
from workroom.rooms.log import lock_room
from workroom.rooms.models import Event, Room
from workroom.services import Services, Tx
from tests.people import Api

ECHO = DriverStatement(select(bindparam("at", type_=UTCDateTime()).label("at"), bindparam("n", type_=Integer()).label("n")))
RETITLE = DriverStatement(update(Room).where(Room.id == bindparam("room")).values(title=bindparam("title"))
                          .returning(Room.title))


async def test_values_go_in_and_come_out_through_their_types(pg_services: Services) -> None:
    at = datetime(2026, 3, 1, 12, 30, tzinfo=timezone(timedelta(hours=2)))
    async with pg_services.transaction() as tx:
        assert tx.driver is not None
        row = await ECHO.fetchrow(tx, {"at": at, "n": 7})
        # UTCDateTime refuses a naive datetime, here as through the session.
        with pytest.raises(ValueError, match="naive"):
            await ECHO.fetchrow(tx, {"at": datetime(2026, 3, 1, 12, 30), "n": 7})
    assert row == (at, 7) and row[0].tzinfo == timezone.utc


async def test_without_a_driver_the_same_statement_runs_through_the_session(services: Services) -> None:
    at = datetime(2026, 3, 1, 12, 30, tzinfo=timezone.utc)
    async with services.transaction() as tx:
        assert (tx.driver is None) == services.db.is_sqlite
        without_driver = Tx(orm=SessionOnDemand(tx.orm.dialect, session=tx.session), now=tx.now)
        assert await ECHO.fetchrow(without_driver, {"at": at, "n": 7}) == (at, 7)


async def test_a_broken_constraint_is_sqlalchemys_integrity_error_and_nothing_is_kept(pg_api: Api) -> None:
    pg_services = pg_api.services
    room = (await pg_api.room()).id
    first = Event.__table__.select().where(Event.room_id == room, Event.seq == 1)
    copy = DriverStatement(Event.__table__.insert().from_select(
        list(Event.__table__.c.keys()), first.with_only_columns(*Event.__table__.c)))
    with pytest.raises(IntegrityError):
        async with pg_services.transaction() as tx:
            await lock_room(tx, room)
            await copy.fetchrow(tx, {})
    async with pg_services.transaction() as tx:
        head = (await lock_room(tx, room)).head_seq
        stored = (await tx.session.execute(select(Event.seq).where(Event.room_id == room))).scalars().all()
    assert stored == list(range(1, head + 1))


async def test_it_is_the_transactions_first_statement_and_rolls_back_with_it(pg_api: Api) -> None:
    pg_services = pg_api.services
    room = (await pg_api.room()).id
    with pytest.raises(RuntimeError, match="after the write"):
        async with pg_services.transaction() as tx:
            assert await RETITLE.fetchrow(tx, {"room": room, "title": "Renamed"}) == ("Renamed",)
            raise RuntimeError("after the write")
    async with pg_services.transaction() as tx:
        assert (await lock_room(tx, room)).title == "Logo redesign"
        await RETITLE.fetchrow(tx, {"room": room, "title": "Renamed"})
    async with pg_services.transaction() as tx:
        assert (await lock_room(tx, room)).title == "Renamed"


async def test_a_value_the_driver_cannot_send_is_a_dbapi_error(pg_services: Services) -> None:
    with pytest.raises(DBAPIError):
        async with pg_services.transaction() as tx:
            await ECHO.fetchrow(tx, {"at": None, "n": "seven"})


async def test_objects_read_on_the_driver_are_the_sessions_own(api: Api) -> None:
    setup = await api.room()
    async with api.services.transaction() as tx:
        client = await find_by_email(tx.session, setup["client"].email)
        assert client is not None
        the_seat = await seat(tx, setup.id, client, lock=True)
        assert (the_seat.room.title, the_seat.role) == ("Logo redesign", "client")
        assert await tx.session.get(Room, setup.id) is the_seat.room
        the_seat.room.title = "Changed through the object"  # flushed at commit, as a loaded object's change
    async with api.services.transaction() as tx:
        assert (await lock_room(tx, setup.id)).title == "Changed through the object"


async def test_an_object_the_session_holds_takes_the_locked_rows_values_but_keeps_unwritten_changes(
        pg_api: Api) -> None:
    api = pg_api
    setup = await api.room()
    async with api.services.transaction() as tx:
        client = await find_by_email(tx.session, setup["client"].email)
        assert client is not None
        room = await tx.session.get(Room, setup.id)
        assert room is not None
        room.status = "complete"  # changed here, not yet written
        async with api.services.transaction() as other:  # meanwhile another command commits
            await RETITLE.fetchrow(other, {"room": setup.id, "title": "Renamed meanwhile"})
        the_seat = await seat(tx, setup.id, client, lock=True)
        assert the_seat.room is room
        assert (room.title, room.status) == ("Renamed meanwhile", "complete")


def test_loaded_refuses_a_model_with_attributes_besides_its_columns() -> None:
    """`loaded` fills each object with every column, and nothing else: a relationship would be left
    unloaded in a state the ORM thinks complete, so such a model is refused at its first load."""

    class Other(DeclarativeBase):
        pass

    class Parent(Other):
        __tablename__ = "parents"
        id: Mapped[str] = mapped_column(String, primary_key=True)
        children: Mapped[list["Child"]] = relationship()

    class Child(Other):
        __tablename__ = "children"
        id: Mapped[str] = mapped_column(String, primary_key=True)
        parent_id: Mapped[str] = mapped_column(ForeignKey("parents.id"))

    orm = SessionOnDemand(postgresql.dialect(), lambda: None)  # type: ignore[arg-type,return-value]
    assert loaded(orm, ("c1", "p1"), Child)[0].parent_id == "p1"
    with pytest.raises(AssertionError, match="Parent has attributes besides its table's columns"):
        loaded(orm, ("p1",), Parent)
