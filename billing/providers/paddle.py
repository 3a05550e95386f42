"""Paddle Billing through the official paddle-python-sdk.

Checkout creates a Paddle transaction for the plan's Paddle price and sends the customer to its
checkout URL; Paddle then renews the subscription by itself and reports every change by signed
webhook (`Paddle-Signature`, verified with the SDK's Verifier and one or more secrets).
"""

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import requests
from django.conf import settings
from paddle_billing import Client, Environment, Options
from paddle_billing.Entities.Shared import CustomData
from paddle_billing.Entities.Subscriptions import SubscriptionEffectiveFrom, SubscriptionProrationBillingMode
from paddle_billing.Exceptions.ApiError import ApiError
from paddle_billing.Notifications import Secret, Verifier
from paddle_billing.Resources.Subscriptions.Operations import CancelSubscription, UpdateSubscription
from paddle_billing.Resources.Subscriptions.Operations.Update import SubscriptionUpdateItem
from paddle_billing.Resources.Transactions.Operations import CreateTransaction
from paddle_billing.Resources.Transactions.Operations.Create import TransactionCreateItem

from billing.errors import BillingErrorCode
from billing.models import AccountStatus, PaymentProvider, PaymentStatus, PlanPrice
from billing.providers.base import (
    BilledItem,
    Checkout,
    PaymentBackend,
    PaymentReport,
    ProviderError,
    ProviderTimeout,
    SubscriptionReport,
    VerifiedEvent,
    WebhookRejected,
)

logger = logging.getLogger(__name__)

SUBSCRIPTION_STATUS = {
    "active": AccountStatus.ACTIVE,
    "trialing": AccountStatus.TRIALING,
    "past_due": AccountStatus.PAST_DUE,
    "canceled": AccountStatus.CANCELED,
    "paused": AccountStatus.EXPIRED,
}
SUBSCRIPTION_EVENTS = {
    "subscription.created",
    "subscription.activated",
    "subscription.updated",
    "subscription.canceled",
    "subscription.past_due",
    "subscription.resumed",
    "subscription.paused",
}


@dataclass(frozen=True)
class _ApiBase:
    """Stands in for paddle_billing.Environment: the SDK only reads `base_url` from it."""

    base_url: str


def _minor_to_decimal(amount: str) -> Decimal:
    return (Decimal(amount) / 100).quantize(Decimal("0.01"))


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _event_time(value: str | None) -> datetime | None:
    """When Paddle says the event happened (`occurred_at`, UTC); None when absent or unreadable."""
    try:
        moment = _parse_time(value)
    except (TypeError, ValueError, AttributeError):
        return None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def webhook_secrets() -> list[str]:
    """PADDLE_WEBHOOK_SECRET as a list; "old, new" (a space after the comma) must verify with both."""
    return [secret.strip() for secret in settings.PADDLE_WEBHOOK_SECRET if secret.strip()]


class PaddleBackend(PaymentBackend):
    name = PaymentProvider.PADDLE
    renews_itself = True

    @classmethod
    def is_configured(cls) -> bool:
        return bool(settings.PADDLE_API_KEY and webhook_secrets())

    def supports_price(self, price: PlanPrice) -> bool:
        return bool(price.provider_ref)

    def _client(self) -> Client:
        environment = (
            _ApiBase(settings.PADDLE_API_URL.rstrip("/"))
            if settings.PADDLE_API_URL
            else Environment(settings.PADDLE_ENVIRONMENT)
        )
        return Client(
            settings.PADDLE_API_KEY,
            options=Options(environment),
            retry_count=1,
            timeout=settings.PROVIDER_HTTP_TIMEOUT_SECONDS,
        )

    def _call(self, what: str, call):
        """Run one SDK call; its failures become ProviderError (ProviderTimeout when Paddle was too slow)."""
        try:
            return call()
        except requests.Timeout:
            logger.warning("paddle %s timed out", what)
            raise ProviderTimeout(detail=f"Paddle did not answer in time ({what}); nothing changed.") from None
        except (ApiError, requests.RequestException) as exc:
            logger.warning("paddle %s failed: %s", what, exc)
            raise ProviderError(detail=f"Paddle did not accept the {what}; nothing changed.") from None

    def start_checkout(self, *, account, plan, price, payment, return_url) -> Checkout:
        operation = CreateTransaction(
            items=[TransactionCreateItem(price_id=price.provider_ref, quantity=1)],
            custom_data=CustomData(
                {"organization_id": str(account.organization_id), "plan": plan.code, "payment_id": str(payment.pk)}
            ),
        )
        transaction = self._call("checkout", lambda: self._client().transactions.create(operation))
        if transaction.checkout is None or not transaction.checkout.url:
            raise ProviderError(detail="Paddle returned no checkout URL; set a default payment link in Paddle.")
        return Checkout(
            external_id=transaction.id,
            confirmation_url=transaction.checkout.url,
            raw={"transaction_id": transaction.id, "status": str(transaction.status)},
        )

    def fetch_subscription(self, subscription_id: str) -> SubscriptionReport:
        """GET /subscriptions/{id} through the SDK, as the same report a subscription webhook gives."""
        subscription = self._call("subscription read", lambda: self._client().subscriptions.get(subscription_id))
        period = subscription.current_billing_period
        scheduled = subscription.scheduled_change
        custom_data = subscription.custom_data.data if subscription.custom_data else {}
        return SubscriptionReport(
            provider=self.name,
            subscription_id=subscription.id,
            status=SUBSCRIPTION_STATUS.get(subscription.status.value),
            items=tuple(
                BilledItem(
                    price_ref=item.price.id,
                    currency=item.price.unit_price.currency_code.value,
                    amount=_minor_to_decimal(item.price.unit_price.amount),
                    quantity=item.quantity,
                )
                for item in subscription.items
            ),
            organization_id=_organization_id({"custom_data": custom_data}),
            period_start=period.starts_at if period else None,
            period_end=period.ends_at if period else None,
            cancel_at_period_end=scheduled is not None and scheduled.action.value == "cancel",
            customer_id=subscription.customer_id or "",
            raw={"subscription_id": subscription.id, "status": subscription.status.value},
        )

    def cancel_subscription(self, *, subscription_id: str, immediate: bool) -> None:
        if not subscription_id:
            return
        effective = SubscriptionEffectiveFrom.Immediately if immediate else SubscriptionEffectiveFrom.NextBillingPeriod
        self._call(
            "cancellation",
            lambda: self._client().subscriptions.cancel(subscription_id, CancelSubscription(effective_from=effective)),
        )

    def resume_subscription(self, *, subscription_id: str, price: PlanPrice | None) -> None:
        """Remove the scheduled cancellation and set the items to `price` in one update: a downgrade
        set here before the cancellation would otherwise renew at the lower price that we no longer show."""
        if not subscription_id:
            return
        if price is None or not price.provider_ref:
            raise ProviderError(detail="The plan has no Paddle price in this currency; nothing changed.")
        operation = UpdateSubscription(
            scheduled_change=None,
            items=[SubscriptionUpdateItem(price_id=price.provider_ref, quantity=1)],
            proration_billing_mode=SubscriptionProrationBillingMode.FullNextBillingPeriod,
        )
        self._call("change", lambda: self._client().subscriptions.update(subscription_id, operation))

    def schedule_plan_change(self, *, subscription_id: str, plan, price: PlanPrice | None) -> None:
        """Paddle renews by itself, so a downgrade must be set there too or it renews at the old price.

        `full_next_billing_period`: nothing is charged or credited now; the next renewal bills `price`.
        """
        if not subscription_id:
            return
        if price is None or not price.provider_ref:
            raise ProviderError(detail=f"{plan.code} has no Paddle price in this currency; nothing changed.")
        operation = UpdateSubscription(
            items=[SubscriptionUpdateItem(price_id=price.provider_ref, quantity=1)],
            proration_billing_mode=SubscriptionProrationBillingMode.FullNextBillingPeriod,
        )
        self._call("plan change", lambda: self._client().subscriptions.update(subscription_id, operation))

    # --- webhooks --------------------------------------------------------------------------------

    def verify_webhook(self, request) -> VerifiedEvent:
        secrets = [Secret(secret) for secret in webhook_secrets()]
        try:
            valid = Verifier(settings.PADDLE_WEBHOOK_TOLERANCE_SECONDS).verify(request, secrets)
        except (ValueError, TypeError, ConnectionRefusedError):
            # The SDK raises ConnectionRefusedError for a signature that fails the HMAC check.
            valid = False
        if not valid:
            raise WebhookRejected(
                BillingErrorCode.INVALID_SIGNATURE, "Paddle-Signature is missing, wrong or too old.", 400
            )
        try:
            payload = json.loads(request.body)
            return VerifiedEvent(
                event_id=str(payload["event_id"]), event_type=str(payload["event_type"]), payload=payload
            )
        except (ValueError, KeyError, TypeError):
            raise WebhookRejected(BillingErrorCode.INVALID_PAYLOAD, "Not a Paddle notification.", 400) from None

    def read_event(self, event) -> PaymentReport | SubscriptionReport | None:
        """The signed body is the report (Paddle notifications are trusted by their signature)."""
        data = event.payload.get("data") or {}
        occurred_at = _event_time(event.payload.get("occurred_at"))
        if event.event_type == "transaction.completed":
            period = data.get("billing_period") or {}
            return PaymentReport(
                provider=self.name,
                external_id=str(data["id"]),
                status=PaymentStatus.SUCCEEDED,
                currency=str(data.get("currency_code") or ""),
                items=_items(data),
                organization_id=_organization_id(data),
                period_start=_parse_time(period.get("starts_at")),
                period_end=_parse_time(period.get("ends_at")),
                customer_id=data.get("customer_id") or "",
                subscription_id=data.get("subscription_id") or "",
                occurred_at=occurred_at,
                raw=data,
            )
        if event.event_type in SUBSCRIPTION_EVENTS:
            period = data.get("current_billing_period") or {}
            scheduled = data.get("scheduled_change") or {}
            return SubscriptionReport(
                provider=self.name,
                subscription_id=str(data.get("id") or ""),
                status=SUBSCRIPTION_STATUS.get(data.get("status")),
                items=_items(data),
                organization_id=_organization_id(data),
                period_start=_parse_time(period.get("starts_at")),
                period_end=_parse_time(period.get("ends_at")),
                cancel_at_period_end=scheduled.get("action") == "cancel",
                customer_id=data.get("customer_id") or "",
                occurred_at=occurred_at,
                raw=data,
            )
        return None


def _items(data: dict) -> tuple[BilledItem, ...]:
    items = []
    for item in data.get("items") or []:
        price = item.get("price") or {}
        unit = price.get("unit_price") or {}
        items.append(
            BilledItem(
                price_ref=str(price.get("id") or ""),
                currency=str(unit.get("currency_code") or ""),
                amount=_minor_to_decimal(unit.get("amount") or "0"),
                quantity=int(item.get("quantity") or 1),
            )
        )
    return tuple(items)


def _organization_id(data: dict) -> int | None:
    organization_id = str((data.get("custom_data") or {}).get("organization_id") or "")
    return int(organization_id) if organization_id.isdigit() else None
