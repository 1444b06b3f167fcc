"""Support case events in the words a mail shows (registered with the email bridge's `describe`)."""

from __future__ import annotations

from typing import Any

from workroom.email_bridge.compose import DESCRIBERS


def _money(data: dict[str, Any], key: str = "amount") -> str:
    minor = int(data.get(key) or 0)
    return f"{minor // 100}.{minor % 100:02d} {data.get('currency', '')}".strip()


def _opened(actor: str, data: dict[str, Any]) -> tuple[str, str]:
    return (f"{actor} opened a support case",
            f"Complaint: {data.get('complaint')}\nWanted: {data.get('wants')}\n"
            f"In dispute: {_money(data, 'disputed_amount')}")


def _outreach(actor: str, data: dict[str, Any]) -> tuple[str, str]:
    party = (data.get("party") or {}).get("name", "the other party")
    outcome = "and they responded" if data.get("responded") else "without a response yet"
    return f"{actor} tried to reach {party} by {data.get('channel')}, {outcome}", str(data.get("note") or "")


def _outreach_closed(actor: str, data: dict[str, Any]) -> tuple[str, str]:
    options = "\n".join(f"- {o.get('label')}" for o in data.get("options") or [])
    return "Outreach closed without a response", f"{data.get('notice', '')}\nYour options now:\n{options}"


def _approved(actor: str, data: dict[str, Any]) -> tuple[str, str]:
    what = "a courtesy credit" if data.get("what") == "credit" else "releasing contact details"
    return f"{actor} (lead) approved {what}", ""


def _credit(actor: str, data: dict[str, Any]) -> tuple[str, str]:
    to = (data.get("to") or {}).get("name", "the client")
    return f"{actor} granted {to} a courtesy credit of {_money(data)}", ""


def _contact(actor: str, data: dict[str, Any]) -> tuple[str, str]:
    party = data.get("party") or {}
    return f"{actor} shared {party.get('name')}'s contact details", str(data.get("email", ""))


def _ended(status: str) -> Any:
    def describe(actor: str, data: dict[str, Any]) -> tuple[str, str]:
        return f"{actor} {status} the support case", f"Outcome: {data.get('outcome')}"
    return describe


def register() -> None:
    DESCRIBERS.update({
        "case.opened": _opened, "case.outreach_logged": _outreach, "case.outreach_closed": _outreach_closed,
        "case.approved": _approved, "case.credit_granted": _credit, "case.contact_released": _contact,
        "case.resolved": _ended("resolved"), "case.closed": _ended("closed"),
    })
