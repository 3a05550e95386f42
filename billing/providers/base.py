"""The interface every payment provider implements, and the small results it translates to.

An adapter turns its provider's wire format into `Checkout`, `PaymentReport` and
`SubscriptionReport` and back; what a report means for a subscription is decided by
billing.services, which adapters never import. Every method that talks to the provider is called
outside any database transaction, with `PROVIDER_HTTP_TIMEOUT_SECONDS` as its HTTP timeout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from billing.errors import BillingErrorCode
from botgeneric.errors import DomainError

if TYPE_CHECKING:
    from django.http import HttpRequest

    from billing.models import BillingAccount, Payment, Plan, PlanPrice, WebhookEvent


class ProviderError(DomainError):
    """The provider's API failed or refused; nothing was charged or changed on our side."""

    code = BillingErrorCode.PROVIDER_ERROR
    http_status = 502


class ProviderTimeout(ProviderError):
    """The provider did not answer within PROVIDER_HTTP_TIMEOUT_SECONDS."""

    code = BillingErrorCode.PROVIDER_TIMEOUT
    http_status = 504


class PaymentNotFound(ProviderError):
    """The provider says the payment does not exist (a forged or mistaken notification)."""

    code = BillingErrorCode.PAYMENT_NOT_FOUND
    http_status = 404


class WebhookRejected(DomainError):
    """A webhook that failed verification (signature, timestamp, source IP); it is never stored."""

    code = BillingErrorCode.WEBHOOK_REJECTED
    http_status = 400


class EventRefused(DomainError):
    """A verified event we will not apply (amount or currency not our price, unknown price…); it is flagged."""

    code = BillingErrorCode.EVENT_REFUSED
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


@dataclass(frozen=True)
class BilledItem:
    """One line the provider billed: its price id there, unit amount and quantity."""

    price_ref: str
    currency: str
    amount: Decimal
    quantity: int = 1


@dataclass(frozen=True)
class PaymentReport:
    """A payment as the provider reports it (a verified notification, a re-fetch or a charge).

    `status` is a PaymentStatus; the hints (`payment_id`, `account_id`, `organization_id`,
    `plan_code`) are what we sent the provider when we created it, for payments we have no row of.
    """

    provider: str
    external_id: str
    status: str
    currency: str
    amount: Decimal | None = None
    items: tuple[BilledItem, ...] = ()
    payment_id: int | None = None
    account_id: int | None = None
    organization_id: int | None = None
    plan_code: str = ""
    period_start: datetime | None = None
    period_end: datetime | None = None
    saved_payment_method_id: str = ""
    customer_id: str = ""
    subscription_id: str = ""
    occurred_at: datetime | None = None
    raw: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SubscriptionReport:
    """A self-renewing provider's subscription as it reports it; `status` is an AccountStatus or None."""

    provider: str
    subscription_id: str
    status: str | None
    items: tuple[BilledItem, ...] = ()
    organization_id: int | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None
    cancel_at_period_end: bool = False
    customer_id: str = ""
    occurred_at: datetime | None = None
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
    #: Whether the provider renews subscriptions by itself (then plan changes must be set there too).
    renews_itself: ClassVar[bool] = False
    #: Whether billing_tick charges renewals through charge_saved_method.
    charges_saved_methods: ClassVar[bool] = False
    #: Whether fetch_payment can re-read a payment (billing_tick reconciles pending ones with it).
    can_fetch_payments: ClassVar[bool] = False

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

    def read_event(self, event: WebhookEvent) -> PaymentReport | SubscriptionReport | None:
        """What a stored, verified event reports (re-fetched from the provider where it must be
        trusted only from there); None for an event that reports nothing we act on."""
        raise NotImplementedError

    def retryable_ignored_types(self) -> tuple[str, ...]:
        """Prefixes of event types whose `ignored` outcome may change later (the provider had not
        confirmed yet): billing_retry_webhooks processes those again."""
        return ()

    def fetch_payment(self, external_id: str) -> PaymentReport:
        """The payment as the provider has it now; PaymentNotFound when it has none."""
        raise NotImplementedError

    def fetch_subscription(self, subscription_id: str) -> SubscriptionReport:
        """The subscription as a self-renewing provider has it now (billing_tick asks when a renewal
        was not reported in time)."""
        raise NotImplementedError

    def cancel_subscription(self, *, subscription_id: str, immediate: bool) -> None:
        """Stop future charges at the provider. Providers that never charge by themselves do nothing."""

    def resume_subscription(self, *, subscription_id: str, price: PlanPrice | None) -> None:
        """Undo a cancellation scheduled at the provider; a provider that renews by itself bills
        `price` (what the customer renews on in our records) from the next period."""

    def schedule_plan_change(self, *, subscription_id: str, plan: Plan, price: PlanPrice | None) -> None:
        """Bill `plan` at `price` from the next period on (providers that renew by themselves)."""

    def charge_saved_method(
        self,
        *,
        account: BillingAccount,
        plan: Plan,
        price: PlanPrice,
        payment: Payment,
        idempotence_key: str,
        period: tuple,
    ) -> PaymentReport:
        """Charge the saved payment method for a renewal; `payment` is our pending row."""
        raise NotImplementedError
