"""`python -m bench.billing`: milestone operations per second on PostgreSQL, beside the same
machine's ceiling of bare one-row insert transactions.

An operation is one real billing command through `workroom.billing.milestones` — `fund` (verified
payment) or `release` — each one transaction under the room's lock with its room event (seq, hash
chain), ledger entry and postings, outbox rows for the members' mail, the dormancy watch and the
release timers. The ceiling is `INSERT INTO t(v) VALUES ($1)` in its own transaction over a raw
asyncpg pool. Both run in the same number of processes with the same number of concurrent tasks
each, against a database created for the run (`wr_bench_billing_<pid>`, dropped afterwards).

A run is `--rounds` rounds (default 3), each the ceiling and then the milestone operations, so
that a busy spell on the shared machine weighs on both sides of one round's ratio; the summary
gives the median round. Each round's milestones are new: in each room, the round's first one is
funded and released before the clock starts (the connections opened, their statements prepared),
as the ceiling's pool opens its connections before its clock.

`--floor` adds to each round the database's own share: the statements every operation of the
round sent, recorded beforehand on a copy of the prepared database (one operation at a time), are
replayed on a second copy through raw asyncpg, each operation's in a transaction as the commands
run them, with no Python in between: the rate no client of these statements could beat here.

Options: `--processes N` (default 2), `--tasks N` per process (default 16), `--rooms-per-task N`
(default 4), `--milestones N` per room and round (default 30), `--seconds S` for the ceiling
(default 10), `--rounds N`, `--floor`.

`--layers` measures instead where a money command's client CPU goes, one transaction at a time
in one process: the same locked read (`OPEN_MILESTONE`, the first statement of every money
command) in a transaction through raw asyncpg, through SQLAlchemy Core on a connection, as the
commands run it (`Services.transaction()` and `open_milestone`: on the transaction's driver
connection, the row turned into ORM objects with no session opened), and a whole fund and release.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import sys
import tempfile
import time
from statistics import median
from typing import Any, Awaitable, Callable

import asyncpg

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
Room = tuple[str, str, list[str]]  # room id, its client's account id, its milestones (of a round)


def url_for(db: str) -> str:
    return f"postgresql+asyncpg://{PG['user']}@{PG['host']}:{PG['port']}/{db}"


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(database="test", **PG)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _services(db: str, var: str, tasks: int = 10) -> Any:
    from workroom.config import Settings
    from workroom.services import Services

    # A pool as large as the tasks, as the ceiling's: a smaller one opens and closes its overflow
    # connections throughout the run.
    settings = Settings.from_env({"DATABASE_URL": url_for(db), "WORKROOM_VAR_DIR": var,
                                  "WORKROOM_SECRET": "bench-secret-" + "x" * 40,
                                  "WORKROOM_DB_POOL_SIZE": str(tasks)})
    return Services(settings)


async def _prepare(db: str, var: str, rooms: int, milestones: int) -> list[Room]:
    """Rooms with unfunded milestones, as the marketplace would create them."""
    from sqlalchemy import select

    from workroom.accounts import account_for_token, find_by_email
    from workroom.billing.models import Milestone
    from workroom.rooms import commands

    services = _services(db, var)
    await services.start()
    try:
        async with services.transaction() as tx:
            market = await account_for_token(tx, "a_market", "market@bench.example", "Market", "service")
        out = []
        for i in range(rooms):
            spec = commands.NewRoom(
                title=f"Bench job {i}", kind="fixed", currency="USD",
                client=commands.NewParty(f"client{i}@bench.example", "Client"),
                freelancer=commands.NewParty(f"free{i}@bench.example", "Freelancer"),
                milestones=tuple(commands.NewMilestone(f"M{j}", 10000 + j, None) for j in range(milestones)))
            room = await commands.create_room(services, market, spec)
            async with services.transaction() as tx:
                client = await find_by_email(tx.session, spec.client.email)
                ids = list((await tx.session.scalars(select(Milestone.id).where(Milestone.room_id == room.id)
                                                     .order_by(Milestone.position))).all())
            assert client is not None
            out.append((room.id, client.id, ids))
        return out
    finally:
        await services.stop()


async def _billing_worker(db: str, var: str, share: list[Room], tasks: int) -> tuple[int, float, float]:
    from workroom.accounts import Account
    from workroom.billing import milestones

    services = _services(db, var, tasks)
    await services.start()
    try:
        async with services.transaction() as tx:
            clients = {cid: await tx.session.get(Account, cid) for _, cid, _ in share}

        async def run(rooms: list[Room], *, first: bool) -> int:
            ops = 0
            for room_id, client_id, ids in rooms:
                client = clients[client_id]
                assert client is not None
                for m in ids[:1] if first else ids[1:]:
                    await milestones.fund(services, client, room_id, m, "verified")
                    await milestones.release(services, client, room_id, m, None)
                    ops += 2
            return ops

        return await _timed_after_warming(run, share, tasks)
    finally:
        await services.stop()


async def _timed_after_warming(run: Callable[..., Awaitable[int]], share: list[Any],
                               tasks: int) -> tuple[int, float, float]:
    """`tasks` concurrent runs over the share: first untimed, each room's first milestone, so that
    the pool's connections are open and have prepared their statements before the clock starts, as
    the ceiling's pool has; then timed, the rest. Operations, seconds and CPU seconds."""
    await asyncio.gather(*(run(share[i::tasks], first=True) for i in range(tasks)))
    start, cpu = time.perf_counter(), time.process_time()
    counts = await asyncio.gather(*(run(share[i::tasks], first=False) for i in range(tasks)))
    return sum(counts), time.perf_counter() - start, time.process_time() - cpu


async def _ceiling_worker(db: str, tasks: int, seconds: float) -> tuple[int, float, float]:
    pool = await asyncpg.create_pool(database=db, min_size=tasks, max_size=tasks, **PG)
    assert pool is not None
    deadline = time.perf_counter() + seconds

    async def run() -> int:
        n = 0
        while time.perf_counter() < deadline:
            async with pool.acquire() as conn:
                async with conn.transaction():
                    await conn.execute("INSERT INTO bench_ceiling(v) VALUES ($1)", "x")
            n += 1
        return n

    start, cpu = time.perf_counter(), time.process_time()
    counts = await asyncio.gather(*(run() for _ in range(tasks)))
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    await pool.close()
    return sum(counts), elapsed, cpu


Operation = list[tuple[str, tuple[Any, ...]]]  # the statements one command sent, with their arguments


async def _capture(db: str, var: str, rooms: list[Room]) -> dict[str, list[Operation]]:
    """Every fund and release of these rooms, one at a time, and the statements each sent (a
    session's, seen by SQLAlchemy, and the driver's, seen by asyncpg), per room in order."""
    from sqlalchemy import event

    from workroom.accounts import Account
    from workroom.billing import milestones

    services = _services(db, var, 1)
    await services.start()
    sent: Operation = []

    def on_session_statement(_conn: Any, _cursor: Any, sql: str, params: Any, _context: Any, _many: bool) -> None:
        sent.append((sql, tuple(params)))

    def on_driver_statement(record: Any) -> None:
        if record.args:  # not BEGIN or COMMIT: the replay makes its own transactions
            sent.append((record.query, tuple(record.args)))

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.driver_connection.add_query_logger(on_driver_statement)

    event.listen(services.db.engine.sync_engine, "before_cursor_execute", on_session_statement)
    event.listen(services.db.engine.sync_engine, "connect", on_connect)
    out: dict[str, list[Operation]] = {}
    try:
        for room_id, client_id, ids in rooms:
            async with services.transaction() as tx:
                client = await tx.session.get(Account, client_id)
            assert client is not None
            operations = out.setdefault(room_id, [])
            for milestone in ids:
                for command in (milestones.fund(services, client, room_id, milestone, "verified"),
                                milestones.release(services, client, room_id, milestone, None)):
                    del sent[:]
                    await command
                    await asyncio.sleep(0)  # asyncpg calls its query loggers soon, not at once
                    operations.append(list(sent))
        return out
    finally:
        await services.stop()


async def _replay_worker(db: str, share: list[list[Operation]], tasks: int) -> tuple[int, float, float]:
    """The recorded operations of these rooms through a raw asyncpg pool, as `_billing_worker` runs
    the commands."""
    pool = await asyncpg.create_pool(database=db, min_size=tasks, max_size=tasks, **PG)
    assert pool is not None

    async def run(rooms: list[list[Operation]], *, first: bool) -> int:
        done = 0
        for operations in rooms:
            for operation in operations[:2] if first else operations[2:]:
                async with pool.acquire() as conn, conn.transaction():
                    for sql, arguments in operation:
                        await conn.fetch(sql, *arguments)
                done += 1
        return done

    try:
        return await _timed_after_warming(run, share, tasks)
    finally:
        await pool.close()


WORKERS = {"billing": _billing_worker, "ceiling": _ceiling_worker, "replay": _replay_worker}


def _proc(kind: str, args: tuple[Any, ...], out: Any) -> None:
    out.send(asyncio.run(WORKERS[kind](*args)))


def _in_processes(kind: str, per_process: list[tuple[Any, ...]]) -> tuple[int, float, float]:
    """Operations, the slowest process's seconds, and the CPU seconds all the processes used."""
    ctx = mp.get_context("spawn")
    pipes, procs = [], []
    for args in per_process:
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_proc, args=(kind, args, child))
        proc.start()
        pipes.append(parent)
        procs.append(proc)
    results = [p.recv() for p in pipes]
    for proc in procs:
        proc.join()
    return sum(r[0] for r in results), max(r[1] for r in results), sum(r[2] for r in results)


async def _layers(db: str, var: str, room: Room) -> None:
    """CPU µs per transaction of the same work through each layer, one transaction at a time. The
    room has 1,100 milestones: 1,000 funded and released after 100 to warm up."""
    from workroom.accounts import Account
    from workroom.billing import milestones

    services = _services(db, var, 1)
    await services.start()
    room_id, client_id, ids = room
    params = {"room_id": room_id, "account_id": client_id, "milestone_id": ids[0]}
    async with services.transaction() as tx:
        client = await tx.session.get(Account, client_id)
    assert client is not None
    compiled = milestones.OPEN_MILESTONE.compiled(services.db.engine.dialect)
    sql, args = compiled.sql, compiled.arguments(params)

    async def measure(name: str, once: Any, n: int = 1000) -> None:
        for _ in range(n // 10):  # warm: connection open, statements prepared
            await once()
        cpu = time.process_time()
        for _ in range(n):
            await once()
        print(f"{name:58s} {1e6 * (time.process_time() - cpu) / n:6.0f} µs")

    try:
        async with services.db.engine.connect() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            assert raw is not None

            async def raw_read() -> None:
                async with raw.transaction():
                    await raw.fetchrow(sql, *args)

            await measure("raw asyncpg: BEGIN, locked read, COMMIT", raw_read)

        async def core_read() -> None:
            async with services.db.engine.begin() as conn:
                (await conn.execute(milestones.OPEN_MILESTONE.statement, params)).first()

        async def commands_read() -> None:
            async with services.transaction() as tx:
                await milestones.open_milestone(tx, client, room_id, ids[0])

        await measure("SQLAlchemy Core on a connection: the same", core_read)
        await measure("as the commands run it (open_milestone): the same", commands_read)
        left = iter(ids)

        async def fund_release() -> None:
            milestone = next(left)
            await milestones.fund(services, client, room_id, milestone, "verified")
            await milestones.release(services, client, room_id, milestone, None)

        await measure("a whole fund + release (two operations)", fund_release)
    finally:
        await services.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--tasks", type=int, default=16)
    parser.add_argument("--rooms-per-task", type=int, default=4)
    parser.add_argument("--milestones", type=int, default=30, help="per room and round")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--floor", action="store_true", help="replay each round's statements raw (see above)")
    parser.add_argument("--layers", action="store_true", help="where a command's client CPU goes (see above)")
    options = parser.parse_args(argv)
    from workroom.db.migrate import upgrade

    db = f"wr_bench_billing_{os.getpid()}"
    recorded, replayed = f"{db}_recorded", f"{db}_replayed"
    asyncio.run(_admin(f'CREATE DATABASE "{db}"'))
    rounds: list[dict[str, tuple[int, float, float]]] = []
    try:
        upgrade(url_for(db))
        asyncio.run(_admin_in(db, "CREATE TABLE bench_ceiling (id bigserial PRIMARY KEY, v text NOT NULL)"))
        with tempfile.TemporaryDirectory() as var:
            if options.layers:
                room = asyncio.run(_prepare(db, var, 1, 1100))[0]
                asyncio.run(_layers(db, var, room))
                return
            rooms = options.processes * options.tasks * options.rooms_per_task
            per_round = options.milestones
            prepared = asyncio.run(_prepare(db, var, rooms, per_round * options.rounds))
            if options.floor:
                for copy in (recorded, replayed):
                    asyncio.run(_admin(f'CREATE DATABASE "{copy}" TEMPLATE "{db}"'))
                operations = asyncio.run(_capture(recorded, var, prepared))
            for r in range(options.rounds):
                this_round = [(room_id, client_id, ids[r * per_round:(r + 1) * per_round])
                              for room_id, client_id, ids in prepared]
                shares = [this_round[i::options.processes] for i in range(options.processes)]
                figures = {
                    "ceiling": _in_processes("ceiling", [(db, options.tasks, options.seconds)] * options.processes),
                    "billing": _in_processes("billing", [(db, var, share, options.tasks) for share in shares])}
                if options.floor:
                    # The room's operations of this round: two per milestone, fund then release.
                    ops = [operations[room_id][2 * r * per_round:2 * (r + 1) * per_round] for room_id, _, _ in prepared]
                    figures["replay"] = _in_processes(
                        "replay", [(replayed, ops[i::options.processes], options.tasks) for i in range(options.processes)])
                rounds.append(figures)
                _print_round(r + 1, figures)
            asyncio.run(_verify(db, var, [r for r, _, _ in prepared]))
    finally:
        for name in (db, recorded, replayed):
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print(f"processes={options.processes} tasks/process={options.tasks} rooms={rooms} "
          f"milestones/room/round={per_round} rounds={options.rounds} "
          f"cores={len(os.sched_getaffinity(0))} python={sys.version.split()[0]}")
    _print_summary(rounds)


def _rate(figures: tuple[int, float, float]) -> float:
    return figures[0] / figures[1]


def _print_round(number: int, figures: dict[str, tuple[int, float, float]]) -> None:
    ceiling = _rate(figures["ceiling"])
    print(f"round {number}: ceiling {ceiling:,.0f}/s (client CPU {1000 * figures['ceiling'][2] / figures['ceiling'][0]:.2f} ms/op)")
    for kind, label in (("billing", "milestone operations"), ("replay", "their statements replayed raw")):
        if kind in figures:
            ops, _, cpu = figures[kind]
            print(f"  {label:30s} {ops} ops = {_rate(figures[kind]):,.0f}/s, {100 * _rate(figures[kind]) / ceiling:.1f}% "
                  f"of the ceiling, client CPU {1000 * cpu / ops:.2f} ms/op")


def _print_summary(rounds: list[dict[str, tuple[int, float, float]]]) -> None:
    """The median round of each figure (the rounds' own figures are printed above)."""
    print(f"ceiling (bare one-row insert transactions): median {median([_rate(r['ceiling']) for r in rounds]):,.0f}/s")
    for kind, label in (("billing", "milestone operations (fund, release):"), ("replay", "the same statements replayed raw:")):
        if kind in rounds[0]:
            rates = [_rate(r[kind]) for r in rounds]
            ratios = [100 * _rate(r[kind]) / _rate(r["ceiling"]) for r in rounds]
            print(f"{label:44s} median {median(rates):,.0f}/s ({min(rates):,.0f}–{max(rates):,.0f}), "
                  f"{median(ratios):.1f}% of its round's ceiling ({min(ratios):.1f}–{max(ratios):.1f}%)")


async def _admin_in(db: str, sql: str) -> None:
    conn = await asyncpg.connect(database=db, **PG)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _verify(db: str, var: str, rooms: list[str]) -> None:
    """Every milestone funded and released once; the ledger balanced to zero."""
    from sqlalchemy import func, select

    from workroom.billing.models import LedgerEntry, LedgerPosting, Milestone

    services = _services(db, var)
    await services.start()
    try:
        async with services.transaction() as tx:
            unreleased = await tx.session.scalar(select(func.count()).select_from(Milestone).where(
                Milestone.room_id.in_(rooms), Milestone.state != "released"))
            total = await tx.session.scalar(select(func.coalesce(func.sum(LedgerPosting.amount), 0)))
            releases = await tx.session.scalar(select(func.count()).select_from(LedgerEntry).where(
                LedgerEntry.kind == "release"))
        assert unreleased == 0 and total == 0, (unreleased, total)
        print(f"verified: every milestone released once ({releases} release entries), ledger sums to 0")
    finally:
        await services.stop()


if __name__ == "__main__":
    main()
