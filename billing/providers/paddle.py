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

from billing.models import AccountStatus, BillingAccount, Payment, PaymentProvider, Plan, PlanPrice, WebhookOutcome
from billing.providers.base import Checkout, EventRefused, PaymentBackend, ProviderError, VerifiedEvent, WebhookRejected

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
        return Client(settings.PADDLE_API_KEY, options=Options(environment), retry_count=1, timeout=15.0)

    def start_checkout(self, *, account, plan, price, payment, return_url) -> Checkout:
        operation = CreateTransaction(
            items=[TransactionCreateItem(price_id=price.provider_ref, quantity=1)],
            custom_data=CustomData(
                {"organization_id": str(account.organization_id), "plan": plan.code, "payment_id": str(payment.pk)}
            ),
        )
        try:
            transaction = self._client().transactions.create(operation)
        except (ApiError, requests.RequestException) as exc:
            logger.warning("paddle checkout failed for account %s: %s", account.pk, exc)
            raise ProviderError(detail="Paddle did not accept the checkout; nothing was charged.") from None
        if transaction.checkout is None or not transaction.checkout.url:
            raise ProviderError(detail="Paddle returned no checkout URL; set a default payment link in Paddle.")
        return Checkout(
            external_id=transaction.id,
            confirmation_url=transaction.checkout.url,
            raw={"transaction_id": transaction.id, "status": str(transaction.status)},
        )

    def cancel_subscription(self, *, account: BillingAccount, immediate: bool) -> None:
        if not account.provider_subscription_id:
            return
        effective = SubscriptionEffectiveFrom.Immediately if immediate else SubscriptionEffectiveFrom.NextBillingPeriod
        try:
            self._client().subscriptions.cancel(
                account.provider_subscription_id, CancelSubscription(effective_from=effective)
            )
        except (ApiError, requests.RequestException) as exc:
            logger.warning("paddle cancel failed for account %s: %s", account.pk, exc)
            raise ProviderError(detail="Paddle did not accept the cancellation; nothing changed.") from None

    def resume_subscription(self, *, account: BillingAccount) -> None:
        if not account.provider_subscription_id:
            return
        try:
            self._client().subscriptions.update(
                account.provider_subscription_id, UpdateSubscription(scheduled_change=None)
            )
        except (ApiError, requests.RequestException) as exc:
            logger.warning("paddle resume failed for account %s: %s", account.pk, exc)
            raise ProviderError(detail="Paddle did not accept the change; nothing changed.") from None

    def schedule_plan_change(self, *, account: BillingAccount, plan: Plan, price: PlanPrice | None) -> None:
        """Paddle renews by itself, so a downgrade must be set there too or it renews at the old price.

        `full_next_billing_period`: nothing is charged or credited now; the next renewal bills `price`.
        """
        if not account.provider_subscription_id:
            return
        if price is None or not price.provider_ref:
            raise ProviderError(detail=f"{plan.code} has no Paddle price in {account.currency}; nothing changed.")
        operation = UpdateSubscription(
            items=[SubscriptionUpdateItem(price_id=price.provider_ref, quantity=1)],
            proration_billing_mode=SubscriptionProrationBillingMode.FullNextBillingPeriod,
        )
        try:
            self._client().subscriptions.update(account.provider_subscription_id, operation)
        except (ApiError, requests.RequestException) as exc:
            logger.warning("paddle plan change failed for account %s: %s", account.pk, exc)
            raise ProviderError(detail="Paddle did not accept the plan change; nothing changed.") from None

    # --- webhooks --------------------------------------------------------------------------------

    def verify_webhook(self, request) -> VerifiedEvent:
        secrets = [Secret(secret) for secret in webhook_secrets()]
        try:
            valid = Verifier(settings.PADDLE_WEBHOOK_TOLERANCE_SECONDS).verify(request, secrets)
        except (ValueError, TypeError, ConnectionRefusedError):
            # The SDK raises ConnectionRefusedError for a signature that fails the HMAC check.
            valid = False
        if not valid:
            raise WebhookRejected("invalid_signature", "Paddle-Signature is missing, wrong or too old.", 400)
        try:
            payload = json.loads(request.body)
            return VerifiedEvent(
                event_id=str(payload["event_id"]), event_type=str(payload["event_type"]), payload=payload
            )
        except (ValueError, KeyError, TypeError):
            raise WebhookRejected("invalid_payload", "Not a Paddle notification.", 400) from None

    def process_event(self, event) -> str:
        data = event.payload.get("data") or {}
        label = f"webhook:{self.name}:{event.event_id}"
        occurred_at = _event_time(event.payload.get("occurred_at"))
        if event.event_type == "transaction.completed":
            return self._transaction_completed(data, label, occurred_at)
        if event.event_type in SUBSCRIPTION_EVENTS:
            return self._subscription_changed(data, label, occurred_at)
        return WebhookOutcome.IGNORED

    def _account_for(self, data: dict, subscription_id: str | None) -> BillingAccount | None:
        if subscription_id:
            account = BillingAccount.objects.filter(provider_subscription_id=subscription_id).first()
            if account is not None:
                return account
        organization_id = (data.get("custom_data") or {}).get("organization_id")
        if organization_id and str(organization_id).isdigit():
            return BillingAccount.objects.filter(organization_id=int(organization_id)).first()
        return None

    def _price_for(self, items: list[dict], account: BillingAccount) -> PlanPrice:
        """Our price for the item Paddle billed; refuse when unknown or not the amount we sell at."""
        if len(items) != 1:
            raise EventRefused(account, f"expected one item, got {len(items)}")
        paddle_price = items[0].get("price") or {}
        unit = paddle_price.get("unit_price") or {}
        price = (
            PlanPrice.objects.select_related("plan")
            .filter(provider_ref=paddle_price.get("id"), currency=unit.get("currency_code"))
            .first()
        )
        if price is None:
            raise EventRefused(account, f"unknown Paddle price {paddle_price.get('id')!r}")
        quantity = int(items[0].get("quantity") or 1)
        amount = _minor_to_decimal(unit.get("amount") or "0") * quantity
        if quantity != 1 or amount != price.amount:
            raise EventRefused(
                account,
                f"amount {amount} {unit.get('currency_code')} does not match our price {price.amount} {price.currency}",
            )
        return price

    def _transaction_completed(self, data: dict, label: str, occurred_at: datetime | None) -> str:
        from billing.services import (
            apply_succeeded_payment,
            note_provider_event,
            stop_replaced_subscription,
            sync_provider_state,
        )

        account = self._account_for(data, data.get("subscription_id"))
        if account is None:
            logger.warning("paddle transaction %s matches no billing account", data.get("id"))
            return WebhookOutcome.IGNORED
        # A payment is applied whatever its order, but it moves the mark so that an older
        # subscription event cannot roll back the period it paid for.
        note_provider_event(account=account, occurred_at=occurred_at)
        price = self._price_for(data.get("items") or [], account)
        payment, _ = Payment.objects.get_or_create(
            provider=self.name,
            external_id=str(data["id"]),
            defaults={"account": account, "amount": price.amount, "currency": price.currency, "plan": price.plan},
        )
        if payment.account_id != account.pk:
            raise EventRefused(account, "the transaction belongs to another account")
        stop_replaced_subscription(account, provider=self.name, subscription_id=data.get("subscription_id") or "")
        period = data.get("billing_period") or {}
        apply_succeeded_payment(
            payment=payment,
            actor_label=label,
            period_start=_parse_time(period.get("starts_at")),
            period_end=_parse_time(period.get("ends_at")),
            raw=data,
        )
        sync_provider_state(
            account=account,
            actor_label=label,
            customer_id=data.get("customer_id") or "",
            subscription_id=data.get("subscription_id") or "",
        )
        return WebhookOutcome.PROCESSED

    def _subscription_changed(self, data: dict, label: str, occurred_at: datetime | None) -> str:
        from billing.services import note_provider_event, sync_provider_state

        account = self._account_for(data, data.get("id"))
        if account is None:
            logger.warning("paddle subscription %s matches no billing account", data.get("id"))
            return WebhookOutcome.IGNORED
        if not note_provider_event(account=account, occurred_at=occurred_at):
            logger.info("paddle subscription event for account %s is older than the last applied one", account.pk)
            return WebhookOutcome.IGNORED
        price = self._price_for(data.get("items") or [], account)
        period = data.get("current_billing_period") or {}
        scheduled = data.get("scheduled_change") or {}
        sync_provider_state(
            account=account,
            actor_label=label,
            status=SUBSCRIPTION_STATUS.get(data.get("status")),
            plan=price.plan,
            period_start=_parse_time(period.get("starts_at")),
            period_end=_parse_time(period.get("ends_at")),
            cancel_at_period_end=scheduled.get("action") == "cancel",
            provider=self.name,
            customer_id=data.get("customer_id") or "",
            subscription_id=str(data.get("id") or ""),
        )
        return WebhookOutcome.PROCESSED
