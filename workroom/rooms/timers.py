"""The rooms package's timers: a guest's access ending shows in the room."""

from __future__ import annotations

from typing import TYPE_CHECKING

from workroom.rooms.commands import GUEST_EXPIRY_TIMER, guest_expired

if TYPE_CHECKING:
    from workroom.services import Services, Tx
    from workroom.timers import Timer


def install(services: "Services") -> None:
    async def on_guest_expiry(tx: "Tx", timer: "Timer") -> None:
        room_id, account_id = timer.key.split(":", 1)
        await guest_expired(tx, services, room_id, account_id)

    services.timers.handlers[GUEST_EXPIRY_TIMER] = on_guest_expiry
