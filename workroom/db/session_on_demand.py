"""A transaction's ORM session, opened on its connection only when the transaction first asks for it.

On PostgreSQL a transaction is the driver's own (`Database.transaction`), and the commands that run
most (a money movement, a message) read and write on the driver alone (`workroom.db.driver`). For
them a session would be pure cost: opening one on the pooled connection and closing it again (an
SQLAlchemy connection around it, the session, its transaction) cost about 100 µs of client CPU per
transaction, as much as the transaction's `BEGIN` and `COMMIT` (bench/RESULTS.md). The rows such a
command reads become ORM objects all the same (`workroom.db.driver.loaded`): they are held here,
under their identity, until the session opens, and join it then, with any change a command made to
them in the meantime, so that every rule works on the same objects whether or not a session opened.
"""

from __future__ import annotations

from typing import Any, Callable

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import instance_state


class SessionOnDemand:
    """The session of one transaction (`get`), and until it opens the objects read on the driver."""

    def __init__(self, dialect: Dialect, open: Callable[[], AsyncSession] | None = None, *,
                 session: AsyncSession | None = None) -> None:
        assert (open is None) != (session is None), "either a way to open the session, or the session"
        self.dialect = dialect
        self._open = open
        self._session = session
        self._held: dict[Any, Any] = {}

    @property
    def is_open(self) -> bool:
        return self._session is not None

    def get(self) -> AsyncSession:
        """The session, opened now if it was not yet, with the objects held so far in it."""
        if self._session is None:
            if self._open is None:
                raise RuntimeError("the transaction has ended: its session can no longer open")
            self._session = self._open()
            self._session.add_all(self._held.values())
            self._held.clear()
        return self._session

    def held(self, key: Any) -> Any | None:
        """The object with this identity key (`Mapper.identity_key_from_primary_key`) the
        transaction already has, if any."""
        if self._session is not None:
            return self._session.sync_session.identity_map.get(key)
        return self._held.get(key)

    def hold(self, key: Any, obj: Any) -> None:
        """Take in an object read on the driver, its state keyed by its identity (`key`), as the
        ORM's loader keys a loaded object (`workroom.db.driver.loaded`)."""
        if self._session is not None:
            self._session.add(obj)
        else:
            self._held[key] = obj

    async def flush(self) -> None:
        """Write what the transaction changed through the ORM, if anything. An empty flush still
        costs a greenlet switch, and a command whose rows ride in its event's statement has none;
        a change to a held object opens the session, which writes it."""
        if self._session is None:
            if not any(instance_state(obj).modified for obj in self._held.values()):
                return
            self.get()
        session = self._session
        assert session is not None
        if session.new or session.dirty or session.deleted:
            await session.flush()

    async def close(self) -> None:
        """End the session, if it opened (the connection under it is its opener's to close). The
        transaction is over: no session may open after this."""
        self._open = None
        self._held.clear()
        if self._session is not None:
            await self._session.close()
