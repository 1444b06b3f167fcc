"""Group commit for received mail: SMTP sessions that reach DATA at the same moment share one
database transaction, so storing mail durably before 250 does not cost one commit per mail."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from sqlalchemy import insert

from .models import ReceivedMail
from .tokens import live_tokens

if TYPE_CHECKING:
    from workroom.services import Services

MAX_BATCH = 100
INSERT_RETURNING_ID = insert(ReceivedMail.__table__).returning(
    ReceivedMail.__table__.c.id, sort_by_parameter_order=True)


@dataclass
class _Pending:
    peer: str
    mail_from: str
    rcpt_to: list[str]
    raw: bytes
    must_be_live: list[str]  # reply tokens: kept only if one of them is still live
    done: "asyncio.Future[int | None]"


class StoreBatcher:
    def __init__(self, services: "Services") -> None:
        self.services = services
        self._pending: list[_Pending] = []
        self._flusher: asyncio.Task[None] | None = None

    async def store(self, *, peer: str, mail_from: str, rcpt_to: list[str], raw: bytes,
                    must_be_live: Sequence[str] = ()) -> int | None:
        """The stored mail's id once its transaction has committed, or None if every reply token in
        `must_be_live` was revoked since RCPT (not stored); raises if it could not be stored."""
        future: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(peer[:100], mail_from[:320], rcpt_to, raw, list(must_be_live), future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_all())
        return await future

    async def _flush_all(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            try:
                ids = await self._write(batch)
            except Exception as error:  # every mail of the batch gets 451 and is retried by its sender
                for item in batch:
                    if not item.done.done():
                        item.done.set_exception(error)
                continue
            for item, mail_id in zip(batch, ids):
                if not item.done.done():
                    item.done.set_result(mail_id)

    async def _write(self, batch: list[_Pending]) -> list[int | None]:
        # A Core statement on a bare connection: storing is on the path of every 250, and a
        # received mail is not a room event, so it needs neither the ORM session nor the broker.
        now = self.services.clock.now()
        async with self.services.db.writing(), self.services.db.engine.begin() as conn:
            live = await live_tokens(conn, [token for item in batch for token in item.must_be_live])
            kept = [item for item in batch if not item.must_be_live or live.intersection(item.must_be_live)]
            ids: dict[int, int] = {}
            if kept:
                rows = [{"received_at": now, "peer": item.peer, "mail_from": item.mail_from,
                         "rcpt_to": "\n".join(item.rcpt_to), "raw": item.raw, "status": "new",
                         "next_attempt_at": now, "attempts": 0} for item in kept]
                # One multi-row INSERT … RETURNING, ids in the order of `kept`.
                result = await conn.execute(INSERT_RETURNING_ID, rows)
                ids = {id(item): int(mail_id) for item, mail_id in zip(kept, result.scalars())}
        return [ids.get(id(item)) for item in batch]
