"""The interface every payment provider implements; services talk only to this."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from botgeneric.errors import DomainError

if TYPE_CHECKING:
    from django.http import HttpRequest

    from billing.models import BillingAccount, Payment, Plan, PlanPrice, WebhookEvent


class ProviderError(DomainError):
    """The provider's API failed or refused; nothing was charged or changed on our side."""

    code = "provider_error"
    http_status = 502


class WebhookRejected(DomainError):
    """A webhook that failed verification (signature, timestamp, source IP); it is never stored."""

    code = "webhook_rejected"
    http_status = 400


class EventRefused(DomainError):
    """A verified event we will not apply (amount or currency not our price, unknown price…); it is flagged."""

    code = "event_refused"
    http_status = 200

    def __init__(self, account: BillingAccount | None, reason: str):
        super().__init__(detail=reason)
        self.account = account


@dataclass
class Checkout:
    """A payment started at the provider: its id there and where to send the customer."""

    external_id: str
    confirmation_url: str
    raw: dict = field(default_factory=dict)


@dataclass
class Charge:
    """The result of charging a saved payment method (a renewal)."""

    external_id: str
    status: str
    amount: Decimal
    currency: str
    raw: dict = field(default_factory=dict)


@dataclass
class VerifiedEvent:
    """A webhook that passed verification: the provider's event id, type and the parsed body."""

    event_id: str
    event_type: str
    payload: dict


class PaymentBackend:
    """One payment provider. Subclasses are configured only from settings (environment variables)."""

    name: ClassVar[str]
    #: Currencies the provider can charge; None means any currency the plan is priced in.
    currencies: ClassVar[frozenset[str] | None] = None
    #: Whether checkout needs a redirect to the provider (False: the subscription starts at once).
    needs_checkout: ClassVar[bool] = True

    @classmethod
    def is_configured(cls) -> bool:
        raise NotImplementedError

    def supports_price(self, price: PlanPrice) -> bool:
        """Whether this provider can sell `price` (Paddle needs the Paddle price id in provider_ref)."""
        return self.currencies is None or price.currency in self.currencies

    def start_checkout(
        self, *, account: BillingAccount, plan: Plan, price: PlanPrice, payment: Payment, return_url: str
    ) -> Checkout:
        """Create the payment at the provider for `plan` at `price`; `payment` is our pending row."""
        raise NotImplementedError

    def verify_webhook(self, request: HttpRequest) -> VerifiedEvent:
        """Check that the request really comes from the provider; raise WebhookRejected otherwise."""
        raise NotImplementedError

    def process_event(self, event: WebhookEvent) -> str:
        """Apply a stored, verified event to our lifecycle; returns the WebhookOutcome."""
        raise NotImplementedError

    def cancel_subscription(self, *, account: BillingAccount, immediate: bool) -> None:
        """Stop future charges at the provider. Providers that never charge by themselves do nothing."""

    def resume_subscription(self, *, account: BillingAccount) -> None:
        """Undo a cancellation scheduled at the provider."""

    def schedule_plan_change(self, *, account: BillingAccount, plan: Plan, price: PlanPrice | None) -> None:
        """Bill `plan` at `price` from the next period on. Providers that never charge by themselves
        (manual, YooKassa: billing_tick charges from our side) do nothing."""

    def charge_saved_method(
        self, *, account: BillingAccount, plan: Plan, price: PlanPrice, idempotence_key: str, period: tuple
    ) -> Charge | None:
        """Charge the saved payment method for a renewal; None when this provider cannot (it renews itself)."""
        return None
