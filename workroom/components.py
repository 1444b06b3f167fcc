"""Each package installs its timer handlers and log hooks on the running services here, so the
hub, the email bridge and billing stay unaware of each other."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workroom.services import Services


def install_all(services: "Services") -> None:
    from workroom.feedback import timers as feedback_timers
    from workroom.billing import timers as billing_timers
    from workroom.rooms import timers as room_timers
    from workroom.support import timers as support_timers

    room_timers.install(services)
    feedback_timers.install(services)
    support_timers.install(services)
    billing_timers.install(services)

    from workroom.email_bridge import install as email_bridge

    email_bridge.install(services)
