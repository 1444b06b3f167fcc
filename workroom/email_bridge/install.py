"""Wires the email bridge into the running services: the outbox rows written with each event, and the
worker's outbox delivery and inbound processing jobs."""
from __future__ import annotations

import weakref
from datetime import timedelta
from typing import TYPE_CHECKING

from .delivery import OutboxDelivery
from .outbox import queue_event_mail
from .processor import InboundProcessor
from .transports import transport_for

if TYPE_CHECKING:
    from workroom.services import Services


class EmailBridge:
    """The bridge's long-lived parts, one per Services."""

    def __init__(self, services: "Services") -> None:
        self.delivery = OutboxDelivery(transport_for(services.settings))
        self.processor = InboundProcessor()
        self.batch_window = timedelta(seconds=services.settings.mail_batch_seconds)


def install(services: "Services") -> EmailBridge:
    bridge = EmailBridge(services)
    services.log.add_write(queue_event_mail(bridge.batch_window))
    services.worker_jobs.append(bridge.delivery.run)
    services.worker_jobs.append(bridge.processor.run)
    _bridges[services] = bridge
    return bridge


_bridges: "weakref.WeakKeyDictionary[Services, EmailBridge]" = weakref.WeakKeyDictionary()


def bridge_of(services: "Services") -> EmailBridge:
    """The bridge installed on these services (every Services has one: components.install_all)."""
    return _bridges[services]
