"""Money for the feedback and support tests: a payment released to the freelancer on a room.

Writes real, balanced funding and release entries through billing's ledger (`workroom.billing.
ledger.post`), each explained by its room event, so the feedback rules and the research summary
read them through billing's own queries exactly as they would read a release made in the room."""

from __future__ import annotations

from typing import Any

from tests.people import Api, RoomSetup
from workroom.billing import ledger
from workroom.rooms.log import SYSTEM, lock_room


async def release_payment(api: Api, room: RoomSetup, amount: int) -> dict[str, Any]:
    services = api.services
    async with services.transaction() as tx:
        locked = await lock_room(tx, room.id)
        milestone = f"test-{locked.head_seq + 1}"
        data = {"milestone": milestone, "amount": amount, "currency": locked.currency}
        funded = await services.log.append(tx, locked, "milestone.funded", SYSTEM, data, source="system")
        await ledger.post(tx, room.id, f"{milestone}:fund", ledger.FUNDING,
                          ledger.funding_postings(milestone, amount), event=funded)
        released = await services.log.append(tx, locked, "milestone.released", SYSTEM, data, source="system")
        fee = ledger.fee_for(amount, services.policy.service_fee_percent)
        await ledger.post(tx, room.id, f"{milestone}:release", ledger.RELEASE,
                          ledger.release_postings(milestone, amount, fee), event=released)
        return released.as_dict()
