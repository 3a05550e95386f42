"""What a provider's report means for our accounts: the decisions behind webhooks and re-fetches.

Adapters (billing.providers) translate a notification or an API answer into a PaymentReport or a
SubscriptionReport; these services find our rows, check the amount against our price, and apply
the payment or the subscription state. Call them inside the caller's transaction; they return the
WebhookOutcome.
"""

import logging

from billing.models import BillingAccount, Payment, PaymentStatus, Plan, PlanPrice, WebhookOutcome
from billing.providers.base import BilledItem, EventRefused, PaymentReport, SubscriptionReport
from billing.services.payments import apply_succeeded_payment, is_placeholder, record_failed_payment
from billing.services.provider_sync import note_provider_event, stop_replaced_subscription, sync_provider_state

logger = logging.getLogger(__name__)


def apply_provider_report(report: PaymentReport | SubscriptionReport | None, *, actor_label: str) -> str:
    """Apply what a provider reported; None (an event type we do not act on) is ignored."""
    if isinstance(report, SubscriptionReport):
        return _apply_subscription(report, actor_label)
    if isinstance(report, PaymentReport):
        if report.items:
            return _apply_billed_transaction(report, actor_label)
        return apply_payment_report(report, actor_label=actor_label)
    return WebhookOutcome.IGNORED


def apply_payment_report(report: PaymentReport, *, actor_label: str) -> str:
    """A payment the provider reports for itself (YooKassa: re-fetched, never the notification's word)."""
    payment = _payment_for(report)
    if payment is None:
        logger.warning("%s payment %s matches no billing account", report.provider, report.external_id)
        return WebhookOutcome.IGNORED
    if (report.amount, report.currency) != (payment.amount, payment.currency):
        raise EventRefused(
            payment.account,
            f"amount {report.amount} {report.currency} does not match our price {payment.amount} {payment.currency}",
        )
    if report.status == PaymentStatus.SUCCEEDED:
        apply_succeeded_payment(
            payment=payment,
            actor_label=actor_label,
            period_start=payment.period_start,
            period_end=payment.period_end,
            payment_method_id=report.saved_payment_method_id,
            raw=report.raw,
        )
        return WebhookOutcome.PROCESSED
    if report.status in (PaymentStatus.CANCELED, PaymentStatus.FAILED):
        record_failed_payment(payment=payment, status=report.status, actor_label=actor_label, raw=report.raw)
        return WebhookOutcome.PROCESSED
    # The provider does not (yet) confirm the payment: change nothing, keep it retryable.
    return WebhookOutcome.IGNORED


def _payment_for(report: PaymentReport) -> Payment | None:
    """Our row for the reported payment: by its id there; else the pending row it names in its
    metadata (a renewal whose answer we have not recorded yet); else, for a payment we did not
    create, a new row for the account and plan it names."""
    payment = Payment.objects.filter(provider=report.provider, external_id=report.external_id).first()
    if payment is not None:
        return payment
    if report.payment_id is not None:
        payment = Payment.objects.select_for_update().filter(pk=report.payment_id, provider=report.provider).first()
        if payment is not None and is_placeholder(payment.external_id):
            payment.external_id = report.external_id
            payment.save(update_fields=["external_id", "updated_at"])
            return payment
    account = BillingAccount.objects.filter(pk=report.account_id).first() if report.account_id else None
    plan = Plan.objects.filter(code=report.plan_code).first() if report.plan_code else None
    if account is None or plan is None:
        return None
    price = plan.prices.filter(currency=report.currency).first()
    if price is None:
        raise EventRefused(account, f"{plan.code} has no {report.currency} price")
    payment, _ = Payment.objects.get_or_create(
        provider=report.provider,
        external_id=report.external_id,
        defaults={"account": account, "amount": price.amount, "currency": price.currency, "plan": plan},
    )
    return payment


def _account_for(report: PaymentReport | SubscriptionReport, subscription_id: str) -> BillingAccount | None:
    if subscription_id:
        account = BillingAccount.objects.filter(provider_subscription_id=subscription_id).first()
        if account is not None:
            return account
    if report.organization_id is not None:
        return BillingAccount.objects.filter(organization_id=report.organization_id).first()
    return None


def _price_for(items: tuple[BilledItem, ...], account: BillingAccount, provider: str) -> PlanPrice:
    """Our price for the item the provider billed; refuse when unknown or not the amount we sell at."""
    if len(items) != 1:
        raise EventRefused(account, f"expected one item, got {len(items)}")
    [item] = items
    price = PlanPrice.objects.select_related("plan").filter(provider_ref=item.price_ref, currency=item.currency).first()
    if price is None:
        raise EventRefused(account, f"unknown {provider} price {item.price_ref!r}")
    amount = item.amount * item.quantity
    if item.quantity != 1 or amount != price.amount:
        raise EventRefused(
            account, f"amount {amount} {item.currency} does not match our price {price.amount} {price.currency}"
        )
    return price


def _apply_billed_transaction(report: PaymentReport, actor_label: str) -> str:
    """A completed transaction of a self-renewing provider (Paddle): a first payment or a renewal."""
    account = _account_for(report, report.subscription_id)
    if account is None:
        logger.warning("%s transaction %s matches no billing account", report.provider, report.external_id)
        return WebhookOutcome.IGNORED
    # A payment is applied whatever its order, but it moves the mark so that an older
    # subscription event cannot roll back the period it paid for.
    note_provider_event(account=account, occurred_at=report.occurred_at)
    price = _price_for(report.items, account, report.provider)
    payment, _ = Payment.objects.get_or_create(
        provider=report.provider,
        external_id=report.external_id,
        defaults={"account": account, "amount": price.amount, "currency": price.currency, "plan": price.plan},
    )
    if payment.account_id != account.pk:
        raise EventRefused(account, "the transaction belongs to another account")
    stop_replaced_subscription(account, provider=report.provider, subscription_id=report.subscription_id)
    apply_succeeded_payment(
        payment=payment,
        actor_label=actor_label,
        period_start=report.period_start,
        period_end=report.period_end,
        raw=report.raw,
    )
    sync_provider_state(
        account=account,
        actor_label=actor_label,
        customer_id=report.customer_id,
        subscription_id=report.subscription_id,
    )
    return WebhookOutcome.PROCESSED


def _apply_subscription(report: SubscriptionReport, actor_label: str) -> str:
    account = _account_for(report, report.subscription_id)
    if account is None:
        logger.warning("%s subscription %s matches no billing account", report.provider, report.subscription_id)
        return WebhookOutcome.IGNORED
    if not note_provider_event(account=account, occurred_at=report.occurred_at):
        logger.info(
            "%s subscription event for account %s is older than the last applied one", report.provider, account.pk
        )
        return WebhookOutcome.IGNORED
    price = _price_for(report.items, account, report.provider)
    sync_provider_state(
        account=account,
        actor_label=actor_label,
        status=report.status,
        plan=price.plan,
        period_start=report.period_start,
        period_end=report.period_end,
        cancel_at_period_end=report.cancel_at_period_end,
        provider=report.provider,
        customer_id=report.customer_id,
        subscription_id=report.subscription_id,
    )
    return WebhookOutcome.PROCESSED
