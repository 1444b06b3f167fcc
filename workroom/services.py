"""The running server's parts, wired once: settings, database, broker, clock, room log, timers.

`Services.transaction()` is the one way to change state. It yields a `Tx`; events appended in it
are published on the broker only after the commit (persist, then publish)."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import AsyncIterator, Awaitable, Callable

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from workroom.billing.gateway import PaymentGateway, default_gateway
from workroom.channels.broker import Broker, MemoryBroker, room_channel
from workroom.clock import Clock, SystemClock, TestClock
from workroom.config import Settings
from workroom.db.database import Database
from workroom.db.session_on_demand import SessionOnDemand
from workroom.metrics import PUBLISH_FAILURES, events_of_kind
from workroom.policy import Policy, policy_named
from workroom.rate_limit import RateLimiter
from workroom.rooms.log import RoomLog, StoredEvent
from workroom.timers import Timers

log = logging.getLogger(__name__)


@dataclass
class Tx:
    """One database transaction and the clock reading every rule in it uses."""

    orm: SessionOnDemand
    now: datetime
    events: list[StoredEvent] = field(default_factory=list)
    # PostgreSQL: the transaction's own connection, for `workroom.db.driver`'s statements (None on
    # SQLite). In reads (`workroom.reads`), which are no transaction, each statement stands alone.
    driver: asyncpg.Connection | None = None

    @property
    def session(self) -> AsyncSession:
        """The transaction's ORM session, opened on first use (see `SessionOnDemand`)."""
        return self.orm.get()


class Services:
    def __init__(self, settings: Settings, *, clock: Clock | None = None, broker: Broker | None = None) -> None:
        self.settings = settings
        self.policy: Policy = policy_named(settings.policy)
        self.clock: Clock = clock or (TestClock() if settings.test_clock else SystemClock())
        self.db = Database(settings.database_url, pool_size=settings.db_pool_size)
        self.broker: Broker = broker or make_broker(settings)
        self.log = RoomLog()
        self.timers = Timers()
        self.http_writes = RateLimiter(self.clock, settings.http_writes_per_minute)
        # Where clients' money comes from: the built-in test gateway unless a processor is plugged in.
        self.payment_gateway: PaymentGateway = default_gateway()
        # Periodic jobs the worker runs besides timers (the email outbox, for one).
        self.worker_jobs: list[Callable[[Services], Awaitable[object]]] = []
        from workroom.components import install_all  # the packages import this module

        install_all(self)

    async def start(self) -> None:
        await self.broker.connect()

    async def stop(self) -> None:
        await self.broker.disconnect()
        await self.db.dispose()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        async with self.db.transaction() as (orm, driver):
            tx = Tx(orm=orm, now=self.clock.now(), driver=driver)
            yield tx
        await self.publish(tx.events)

    async def publish(self, events: list[StoredEvent]) -> None:
        """After commit. A broker that is down loses nothing: subscribers resume from the log."""
        for event in events:
            if event.replayed:
                continue
            events_of_kind(event.type.partition(".")[0]).inc()
            try:
                await self.broker.publish(room_channel(event.room_id), event.envelope)
            except Exception:
                PUBLISH_FAILURES.inc()
                log.warning("broker publish failed for %s#%s; subscribers will catch up from the log",
                            event.room_id, event.seq, exc_info=True)


def make_broker(settings: Settings) -> Broker:
    if settings.redis_url:
        from workroom.channels.redis_broker import RedisBroker  # only the scaled shape needs redis

        return RedisBroker(settings.redis_url, prefix=settings.redis_prefix,
                           check_seconds=settings.hub_check_seconds)
    return MemoryBroker()
