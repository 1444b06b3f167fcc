"""The ledger's API as other packages use it: balanced, idempotent, insert-only entries."""

import pytest

from tests.people import Api
from workroom.billing import ledger, queries
from workroom.rooms.log import SYSTEM, lock_room
from workroom.services import Services


async def _post(services: Services, room_id: str, key: str, kind: str, postings: list[tuple[str, int]]) -> int:
    async with services.transaction() as tx:
        room = await lock_room(tx, room_id)
        await services.log.append(tx, room, "test.money_moved", SYSTEM, {"key": key}, source="system",
                                  also=[ledger.entry(room, key, kind, postings)])
        entry = await ledger.find(tx, room_id, key)
        assert entry is not None
        return entry


async def test_entries_balance_and_keys_move_money_once(api: Api, services: Services) -> None:
    room = await api.room()
    m = room.milestones[0]["id"]
    first = await _post(services, room.id, "fund-1", ledger.FUNDING, ledger.funding_postings(m, 30000))
    again = await _post(services, room.id, "fund-1", ledger.FUNDING, ledger.funding_postings(m, 30000))
    assert first == again
    await _post(services, room.id, "rel-1", ledger.RELEASE, ledger.release_postings(m, 30000, 3000))
    await _post(services, room.id, "credit-1", ledger.CREDIT, ledger.credit_postings(500))
    async with services.transaction() as tx:
        balances = await ledger.balances(tx.session, room.id)
        assert balances == {"client": -30000, f"escrow:{m}": 0, "freelancer_earnings": 27000,
                            "platform_fees": 3000, "platform_expense": -500, "client_credit": 500}
        assert sum(balances.values()) == 0
        assert ledger.replay(await ledger.journal(tx.session, room.id)) == balances
        paid = await queries.payments(tx, room.id)
        assert [(p.amount, p.fee, p.net, p.milestone_id) for p in paid] == [(30000, 3000, 27000, m)]
        summary = await queries.money_summary(tx, room.id)
        assert (summary.funded, summary.released, summary.total_spend, summary.fees, summary.credits,
                summary.in_escrow) == (30000, 30000, 30000, 3000, 500, 0)


async def test_unbalanced_or_reused_key_is_refused(api: Api, services: Services) -> None:
    room = await api.room()
    m = room.milestones[0]["id"]
    with pytest.raises(ledger.Unbalanced):
        await _post(services, room.id, "bad", ledger.FUNDING, [("client", -100), (f"escrow:{m}", 99)])
    await _post(services, room.id, "k", ledger.FUNDING, ledger.funding_postings(m, 100))
    with pytest.raises(ledger.KeyReused):
        await _post(services, room.id, "k", ledger.FUNDING, ledger.funding_postings(m, 200))
    async with services.transaction() as tx:
        assert await ledger.balance(tx.session, room.id, "client") == -100
        # the refused tries rolled back with their events
        events = await services.log.read(tx.session, room.id, 0, 100)
        assert [e.type for e in events].count("test.money_moved") == 1


def test_fee_rounds_half_up() -> None:
    assert ledger.fee_for(30000, 10) == 3000
    assert ledger.fee_for(5, 10) == 1  # 0.5 cents rounds up
    assert ledger.fee_for(4, 10) == 0
