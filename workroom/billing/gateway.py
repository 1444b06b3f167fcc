"""The payment gateway: where a client's money comes from. Billing asks it to charge a payment
method and records what it answers; a card processor plugs in behind the same interface.

A real processor (Stripe, Adyen, Braintree…) implements `PaymentGateway.charge` by creating a
charge with our payment id as its idempotency key, answering `completed` when the money is
captured and `pending` when it awaits verification (3-D Secure, a new bank account). Its webhook
then calls `POST /api/payments/{payment}/verified` (see `milestones.payment_verified`), which
completes the funding. Only the test gateway is built."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

METHODS = ("verified", "unverified")


@dataclass(frozen=True)
class ChargeResult:
    status: str  # "completed" (money captured) | "pending" (awaits verification)
    reference: str  # the gateway's own id for the charge


class PaymentGateway(Protocol):
    async def charge(self, payment_id: str, amount: int, currency: str, method: str) -> ChargeResult:
        """Charge `amount` minor units of `currency` to the client's payment `method`, idempotent by
        `payment_id`."""
        ...


class TestGateway:
    """The built-in gateway for tests, demos and development: a `verified` method completes at
    once; an `unverified` one stays pending until the verification callback arrives."""

    __test__ = False  # not a pytest test class

    async def charge(self, payment_id: str, amount: int, currency: str, method: str) -> ChargeResult:
        if method not in METHODS:
            raise ValueError(f"unknown payment method {method!r}")
        return ChargeResult(status="completed" if method == "verified" else "pending", reference=f"test_{payment_id}")


def default_gateway() -> PaymentGateway:
    return TestGateway()
