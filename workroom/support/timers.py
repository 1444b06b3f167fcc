"""The support package's timer: the outreach window of a case closes after the policy's hours."""

from __future__ import annotations

from typing import TYPE_CHECKING

from workroom.support.commands import OUTREACH_TIMER, outreach_window_closed

if TYPE_CHECKING:
    from workroom.services import Services, Tx
    from workroom.timers import Timer


def install(services: "Services") -> None:
    async def on_outreach_window(tx: "Tx", timer: "Timer") -> None:
        await outreach_window_closed(tx, services, timer.key)

    services.timers.handlers[OUTREACH_TIMER] = on_outreach_window
