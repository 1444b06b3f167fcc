"""Each package installs its timer handlers and room-log writes on the running services here, so the
hub, the email bridge and billing stay unaware of each other."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workroom.services import Services


def install_all(services: "Services") -> None:
    from workroom.billing import timers as billing_timers
    from workroom.feedback import install as feedback
    from workroom.rooms import timers as room_timers
    from workroom.support import install as support

    room_timers.install(services)
    feedback.install(services)
    support.install(services)
    billing_timers.install(services)

    from workroom.email_bridge import install as email_bridge

    email_bridge.install(services)
