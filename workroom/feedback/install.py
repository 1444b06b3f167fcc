"""Wires the feedback package into the running services: its timer handlers and its mail wording."""

from __future__ import annotations

from typing import TYPE_CHECKING

from workroom.feedback import mail_text, timers

if TYPE_CHECKING:
    from workroom.services import Services


def install(services: "Services") -> None:
    timers.install(services)
    mail_text.register()
