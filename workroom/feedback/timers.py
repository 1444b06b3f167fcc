"""The feedback package's timer: an unanswered request for mid-contract feedback expires."""

from __future__ import annotations

from typing import TYPE_CHECKING

from workroom.feedback.commands import REQUEST_EXPIRY_TIMER, request_expired

if TYPE_CHECKING:
    from workroom.services import Services, Tx
    from workroom.timers import Timer


def install(services: "Services") -> None:
    async def on_request_expiry(tx: "Tx", timer: "Timer") -> None:
        await request_expired(tx, services, timer.key)

    services.timers.handlers[REQUEST_EXPIRY_TIMER] = on_request_expiry
