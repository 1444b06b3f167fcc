"""A hypothesis state machine drives a job's money at random (fund, verify, request and void
release, release in full or part, retried releases, refunds, disputes and their outcomes, the
clock moving days at a time, and the worker crashing half-way through a timer) and after every
step checks the ledger's invariants:

- every entry balances, and the job's postings sum to zero;
- no account but the outside world (`client`, `platform_expense`) is negative;
- per milestone, escrow = funded − released − refunded (from the ledger), equal to the
  milestone's running totals, and released + refunded ≤ funded;
- a milestone is released at most once per release decision: auto-releases never outnumber
  release requests, and a retried key moves nothing;
- every money movement has exactly one room event and every money event exactly one entry,
  with the same amount;
- replaying the journal reproduces every balance;
- the statement reconciles to the cent.

Runs a few hundred steps by default; WORKROOM_HYPOTHESIS_EXAMPLES / _STEPS ask for more."""

from __future__ import annotations

import asyncio
import json
import os
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any, Awaitable, TypeVar

from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test,
)
from sqlalchemy import select

from tests.backends import SqliteDatabases
from tests.conftest import START, make_settings
from workroom.accounts import Account, account_for_token, find_by_email
from workroom.billing import ledger, milestones, statement
from workroom.billing.models import GatewayPayment, LedgerEntry, LedgerPosting, Milestone
from workroom.clock import TestClock
from workroom.errors import ApiError
from workroom.rooms import commands
from workroom.rooms.log import SYSTEM, lock_room
from workroom.rooms.models import Event, Room
from workroom.services import Services
from workroom.timers import Timer

T = TypeVar("T")
EXAMPLES = int(os.environ.get("WORKROOM_HYPOTHESIS_EXAMPLES", "12"))
STEPS = int(os.environ.get("WORKROOM_HYPOTHESIS_STEPS", "40"))
MONEY_EVENTS = {"milestone.funded", "milestone.released", "milestone.refunded", "invoice.paid"}
AMOUNTS = (10000, 33333, 70001)


class Crash(Exception):
    """The worker process dies before its transaction commits."""


class World:
    """Services on a test clock over one SQLite database, shared by every example of the run."""

    def __init__(self, url: str, var: Path) -> None:
        self.runner = asyncio.Runner()
        self.clock = TestClock(START)
        self.services = Services(make_settings(url, var), clock=self.clock)
        self.run(self.services.start())
        self.market = self.run(self._account("market@marketplace.example", "service"))
        self.agent = self.run(self._account("agent@support.example", "support"))

    def run(self, coro: Awaitable[T]) -> T:
        return self.runner.run(coro)  # type: ignore[arg-type]

    async def _account(self, email: str, kind: str) -> Account:
        async with self.services.transaction() as tx:
            return await account_for_token(tx, f"a_{kind}", email, kind, kind)

    def close(self) -> None:
        self.run(self.services.stop())
        self.runner.close()


class MoneyMachine(RuleBasedStateMachine):
    world: World
    seen: Counter[str] = Counter()  # event types stored over the whole run

    def __init__(self) -> None:
        super().__init__()
        w = self.world
        self.services = w.services
        suffix = str(id(self))
        spec = commands.NewRoom(
            title="Random job", kind="fixed", currency="USD",
            client=commands.NewParty(f"c{suffix}@example.com", "Client"),
            freelancer=commands.NewParty(f"f{suffix}@example.com", "Freelancer"),
            milestones=tuple(commands.NewMilestone(f"M{i}", amount, None) for i, amount in enumerate(AMOUNTS)))
        room = w.run(commands.create_room(self.services, w.market, spec))
        self.room_id = room.id
        self.client, self.freelancer = w.run(self._people(spec))
        w.run(commands.support_join(self.services, w.agent, self.room_id))
        self.milestone_ids = w.run(self._milestone_ids())
        self.pending_payments: list[str] = []
        self.keys = 0

    async def _people(self, spec: commands.NewRoom) -> tuple[Account, Account]:
        async with self.services.transaction() as tx:
            client = await find_by_email(tx.session, spec.client.email)
            freelancer = await find_by_email(tx.session, spec.freelancer.email)
        assert client is not None and freelancer is not None
        return client, freelancer

    async def _milestone_ids(self) -> list[str]:
        async with self.services.transaction() as tx:
            rows = await tx.session.scalars(select(Milestone.id).where(Milestone.room_id == self.room_id)
                                            .order_by(Milestone.position))
            return list(rows.all())

    def attempt(self, coro: Awaitable[Any]) -> Any:
        try:
            return self.world.run(coro)
        except ApiError as error:
            assert error.status in (403, 409), error.as_json()  # refusals are clean, never 500s
            return None

    # ---- steps ---------------------------------------------------------------------------------

    @initialize(funded=st.integers(0, 3))
    def start_funded(self, funded: int) -> None:
        """Most jobs start with some escrow, so the random walk reaches releases and refunds sooner."""
        for m in self.milestone_ids[:funded]:
            self.world.run(milestones.fund(self.services, self.client, self.room_id, m, "verified"))

    @rule(i=st.integers(0, 2), verified=st.booleans())
    def fund(self, i: int, verified: bool) -> None:
        event = self.attempt(milestones.fund(self.services, self.client, self.room_id, self.milestone_ids[i],
                                             "verified" if verified else "unverified"))
        if event is not None and event.type == "milestone.funding_pending":
            self.pending_payments.append(event.data["payment"])

    @precondition(lambda self: self.pending_payments)
    @rule(data=st.data())
    def verify(self, data: st.DataObject) -> None:
        payment = data.draw(st.sampled_from(self.pending_payments))
        self.world.run(milestones.payment_verified(self.services, self.world.market, payment))
        self.pending_payments.remove(payment)

    @rule(i=st.integers(0, 2))
    def request_release(self, i: int) -> None:
        self.attempt(milestones.request_release(self.services, self.freelancer, self.room_id, self.milestone_ids[i]))

    @rule(i=st.integers(0, 2))
    def void_release(self, i: int) -> None:
        self.attempt(milestones.void_release(self.services, self.freelancer, self.room_id, self.milestone_ids[i]))

    @rule(i=st.integers(0, 2), amount=st.one_of(st.none(), st.integers(1, 40000)), retries=st.integers(0, 2))
    def release(self, i: int, amount: int | None, retries: int) -> None:
        self.keys += 1
        key = f"rel-{self.keys}"
        first = self.attempt(milestones.release(self.services, self.client, self.room_id, self.milestone_ids[i],
                                                amount, client_id=key))
        for _ in range(retries):
            again = self.attempt(milestones.release(self.services, self.client, self.room_id, self.milestone_ids[i],
                                                    amount, client_id=key))
            if first is not None:
                assert again is not None and again.seq == first.seq and again.replayed

    @rule(i=st.integers(0, 2), amount=st.one_of(st.none(), st.integers(1, 40000)))
    def refund(self, i: int, amount: int | None) -> None:
        self.attempt(milestones.refund(self.services, self.freelancer, self.room_id, self.milestone_ids[i], amount,
                                       "agreed"))

    @rule(i=st.integers(0, 2), by_client=st.booleans())
    def dispute(self, i: int, by_client: bool) -> None:
        who = self.client if by_client else self.freelancer
        self.attempt(milestones.dispute(self.services, who, self.room_id, self.milestone_ids[i], "disagree"))

    @rule(i=st.integers(0, 2), release=st.booleans(), amount=st.one_of(st.none(), st.integers(1, 40000)))
    def dispute_outcome(self, i: int, release: bool, amount: int | None) -> None:
        agent, m = self.world.agent, self.milestone_ids[i]
        if release:
            self.attempt(milestones.release(self.services, agent, self.room_id, m, amount))
        else:
            self.attempt(milestones.refund(self.services, agent, self.room_id, m, amount, "outcome"))

    @rule(days=st.integers(1, 35))
    def advance(self, days: int) -> None:
        self.world.clock.advance(timedelta(days=days))
        self.world.run(self.services.timers.run_due(self.services))

    @rule()
    def crash_worker(self) -> None:
        """Claim the next due timer, run its handler, and die before the commit: nothing of it stays."""
        async def crash() -> None:
            try:
                async with self.services.transaction() as tx:
                    timer = await tx.session.scalar(select(Timer).where(
                        Timer.fired_at.is_(None), Timer.cancelled_at.is_(None), Timer.due_at <= tx.now)
                        .order_by(Timer.due_at, Timer.id).limit(1))
                    if timer is not None:
                        await self.services.timers.handlers[timer.kind](tx, timer)
                        timer.fired_at = tx.now
                    raise Crash
            except Crash:
                pass
        self.world.clock.advance(timedelta(days=15))
        before = self.world.run(self._snapshot())
        self.world.run(crash())
        assert self.world.run(self._snapshot()) == before

    @rule(i=st.integers(0, 2))
    def crash_mid_release(self, i: int) -> None:
        async def crash() -> None:
            try:
                async with self.services.transaction() as tx:
                    room = await lock_room(tx, self.room_id)
                    milestone = await milestones.load(tx, self.room_id, self.milestone_ids[i])
                    if milestone.in_escrow > 0 and milestone.state in milestones.HOLDING_STATES:
                        await milestones.release_money(tx, self.services, room, milestone, milestone.in_escrow,
                                                       SYSTEM, source="system", reason="crash test")
                    raise Crash
            except Crash:
                pass
        before = self.world.run(self._snapshot())
        self.world.run(crash())
        assert self.world.run(self._snapshot()) == before

    def teardown(self) -> None:
        async def tally() -> None:
            async with self.services.transaction() as tx:
                rows = await tx.session.execute(select(Event.type, Event.envelope).where(Event.room_id == self.room_id))
                for type_, envelope in rows.all():
                    reason = json.loads(envelope)["data"].get("reason") if type_ == "milestone.released" else None
                    MoneyMachine.seen[f"{type_}:{reason}" if reason else type_] += 1
        self.world.run(tally())

    async def _snapshot(self) -> tuple[int, int, dict[str, int]]:
        async with self.services.transaction() as tx:
            room = await tx.session.get(Room, self.room_id)
            assert room is not None
            entries = await tx.session.scalar(select(LedgerEntry.id).where(LedgerEntry.room_id == self.room_id)
                                              .order_by(LedgerEntry.id.desc()).limit(1))
            return room.head_seq, entries or 0, await ledger.balances(tx.session, self.room_id)

    # ---- invariants ----------------------------------------------------------------------------

    @invariant()
    def ledger_invariants(self) -> None:
        self.world.run(self._check())

    async def _check(self) -> None:
        async with self.services.transaction() as tx:
            session, room_id = tx.session, self.room_id
            rows = (await session.execute(
                select(LedgerEntry, LedgerPosting).join(LedgerPosting, LedgerPosting.entry_id == LedgerEntry.id)
                .where(LedgerEntry.room_id == room_id))).all()
            per_entry: dict[int, int] = defaultdict(int)
            entry_seq: dict[int, int] = {}
            escrow_moves: dict[int, int] = defaultdict(int)
            by_kind: dict[tuple[str, str], int] = defaultdict(int)
            for entry, posting in rows:
                per_entry[entry.id] += posting.amount
                entry_seq[entry.id] = entry.event_seq
                if ledger.is_escrow(posting.account):
                    escrow_moves[entry.id] += posting.amount
                    by_kind[(posting.account[len(ledger.ESCROW_PREFIX):], entry.kind)] += posting.amount
            assert all(total == 0 for total in per_entry.values()), per_entry
            balances = await ledger.balances(session, room_id)
            assert sum(balances.values()) == 0
            for account, value in balances.items():
                assert value >= 0 or account in ledger.OUTSIDE_WORLD, (account, value)
            assert ledger.replay(await ledger.journal(session, room_id)) == balances

            for m in (await session.scalars(select(Milestone).where(Milestone.room_id == room_id)
                                            .execution_options(populate_existing=True))).all():
                funded = by_kind[(m.id, ledger.FUNDING)]
                released = -by_kind[(m.id, ledger.RELEASE)]
                refunded = -by_kind[(m.id, ledger.REFUND)]
                assert balances.get(ledger.escrow(m.id), 0) == funded - released - refunded
                assert (m.funded_amount, m.released_amount, m.refunded_amount) == (funded, released, refunded)
                assert released + refunded <= funded <= m.amount
                if m.state in ("not_funded", "funding_requested", "pending"):
                    assert funded == 0
                if m.state in ("released", "refunded"):
                    assert m.in_escrow == 0

            events = (await session.scalars(select(Event).where(Event.room_id == room_id))).all()
            money_events = {e.seq: json.loads(e.envelope) for e in events if e.type in MONEY_EVENTS}
            seqs = list(entry_seq.values())
            assert len(seqs) == len(set(seqs)) and set(seqs) == set(money_events), (seqs, list(money_events))
            for entry_id, seq in entry_seq.items():
                data = money_events[seq]["data"]
                assert abs(escrow_moves[entry_id]) == data["amount"]
            auto = Counter(e["data"]["milestone"] for e in money_events.values()
                           if e["type"] == "milestone.released" and e["data"]["reason"] == "auto_release")
            requests = Counter(json.loads(e.envelope)["data"]["milestone"] for e in events
                               if e.type == "milestone.release_requested")
            assert all(auto[m] <= requests[m] for m in auto)
            completed = await session.scalar(select(GatewayPayment.id).where(
                GatewayPayment.room_id == room_id, GatewayPayment.status == "pending",
                GatewayPayment.id.not_in(self.pending_payments)).limit(1))
            assert completed is None
            room = await session.get(Room, room_id)
            assert room is not None
            document = await statement.build(tx, room)
            assert document["reconciliation"]["reconciles"], document["reconciliation"]


def test_ledger_invariants_hold_under_random_operations(sqlite_dbs: SqliteDatabases, tmp_path: Path) -> None:
    world = World(sqlite_dbs.fresh(), tmp_path / "var")
    MoneyMachine.world = world
    try:
        run_state_machine_as_test(MoneyMachine, settings=settings(
            max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None,
            # A fixed seed keeps `make test` reproducible (and the coverage check below stable);
            # WORKROOM_HYPOTHESIS_SEED=random explores new sequences on each run.
            derandomize=os.environ.get("WORKROOM_HYPOTHESIS_SEED") != "random",
            suppress_health_check=list(HealthCheck)))
    finally:
        world.close()
    # the run exercised the paths that matter, not just refusals
    for kind in ("milestone.funded", "milestone.released:client", "milestone.refunded", "milestone.disputed"):
        assert MoneyMachine.seen[kind] > 0, (kind, MoneyMachine.seen)
