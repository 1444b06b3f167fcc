"""Feedback events in the words a mail shows (registered with the email bridge's `describe`)."""

from __future__ import annotations

from typing import Any

from workroom.email_bridge.compose import DESCRIBERS


def _left(actor: str, data: dict[str, Any]) -> tuple[str, str]:
    kind = "mid-contract feedback" if data.get("kind") == "mid_contract" else "feedback"
    subject = (data.get("subject") or {}).get("name", "the other party")
    return f"{actor} left {kind} on {subject}", f"Rating: {data.get('rating')}/5\n{data.get('comment', '')}"


def _requested(actor: str, data: dict[str, Any]) -> tuple[str, str]:
    return (f"{actor} asked for mid-contract feedback",
            f"You can leave it in the room until {data.get('expires_at')}.")


def _expired(actor: str, data: dict[str, Any]) -> tuple[str, str]:
    return "The request for mid-contract feedback expired", ""


def register() -> None:
    DESCRIBERS.update({"feedback.left": _left, "feedback.requested": _requested,
                       "feedback.request_expired": _expired})
