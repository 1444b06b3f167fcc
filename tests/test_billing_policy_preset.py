"""The marketplace-2026 preset: 14 days to review a release request, dormancy after 90 days."""

from __future__ import annotations

import pytest

from tests.billing_steps import advance, ok, state, types
from tests.people import Api
from workroom.policy import DEFAULT, MARKETPLACE_2026


@pytest.fixture
def settings_overrides() -> dict[str, str]:
    return {"WORKROOM_POLICY": "marketplace-2026"}


def test_presets_hold_every_number() -> None:
    assert (DEFAULT.release_overdue_after.days, DEFAULT.auto_release_after.days,
            DEFAULT.dormant_after_last_milestone.days, DEFAULT.dormant_freelancer_notice_after.days,
            DEFAULT.dormant_settle_after.days, DEFAULT.service_fee_percent) == (15, 30, 60, 7, 14, 10)
    assert (MARKETPLACE_2026.auto_release_after.days, MARKETPLACE_2026.dormant_after_last_milestone.days,
            MARKETPLACE_2026.feedback_window.days) == (14, 90, 14)


async def test_release_request_reviewed_within_14_days(api: Api) -> None:
    room = await api.room()
    m = room.milestones[0]["id"]
    await ok(api, room, room["client"], m, "fund")
    requested = await ok(api, room, room["freelancer"], m, "request-release")
    assert requested["data"]["auto_release_at"].startswith("2026-03-16")
    await advance(api, room, "P13D")
    assert await state(api, room, m) == "release_requested"
    await advance(api, room, "P1D")
    assert await state(api, room, m) == "released"


async def test_dormant_after_90_days(api: Api) -> None:
    room = await api.room(milestones=[{"title": "All", "amount": 5000, "due_date": "2026-03-02"}])
    await ok(api, room, room["client"], room.milestones[0]["id"], "fund")  # 09:00 on the last milestone date
    await advance(api, room, "P89D")
    assert "escrow.dormant" not in await types(api, room)
    await advance(api, room, "P1D")
    assert "escrow.dormant" in await types(api, room)
