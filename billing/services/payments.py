"""Payments: starting one at a provider, and applying what the provider says became of it."""

import uuid
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from billing.errors import BillingError, BillingErrorCode
from billing.models import AccountStatus, BillingAccount, Payment, PaymentStatus, Plan, PlanPrice
from billing.periods import add_interval
from billing.providers import get_backend
from billing.providers.base import ProviderError
from billing.services.accounts import (
    audit,
    billing_transaction,
    check_can_manage,
    is_current,
    lock_account,
    lock_account_by_pk,
    snapshot,
    start_period,
)
from billing.services.invoices import issue_invoice
from billing.services.preview import keeps_trial
from billing.services.pricing import check_provider, resolve_plan, resolve_price
from billing.services.provider_sync import stop_replaced_subscription
from tenants.models import Organization
from tenants.services import record_audit
from webhooks.models import EventType
from webhooks.services import emit

CHECKOUT_PREFIX = "pending-"
RENEWAL_PREFIX = "renew-"
PLACEHOLDER_PREFIXES = (CHECKOUT_PREFIX, RENEWAL_PREFIX)


def start_payment(
    *,
    organization: Organization,
    provider: str,
    plan: Plan | str | None = None,
    currency: str | None = None,
    return_url: str = "",
    actor,
) -> Payment:
    """Start a payment for one period of `plan` (default: the account's plan) at a paying provider.

    `actor` must be the organization's owner or admin. The account changes only when the provider
    confirms the payment (webhook or re-fetch).
    """
    check_can_manage(actor=actor, organization=organization)
    with billing_transaction():
        account = lock_account(organization)
        if plan is None:
            if account.plan is None:
                raise BillingError(BillingErrorCode.UNKNOWN_PLAN, "Choose a plan to pay for.", "plan")
            plan = account.plan
        plan = resolve_plan(plan)
        check_provider(provider=provider, plan=plan)
        if not get_backend(provider).needs_checkout:
            raise BillingError(
                BillingErrorCode.PROVIDER_NOT_SUPPORTED, f"{provider} does not take payments.", "provider"
            )
        price = resolve_price(plan=plan, provider=provider, currency=currency, account=account)
        payment = checkout_intent(account, plan=plan, price=price, provider=provider)
    return complete_checkout(payment, account=account, plan=plan, price=price, return_url=return_url)


def is_placeholder(external_id: str) -> bool:
    """Whether a payment still has our own id: the provider has not told us its id yet."""
    return external_id.startswith(PLACEHOLDER_PREFIXES)


def checkout_intent(
    account: BillingAccount, *, plan: Plan, price: PlanPrice, provider: str, amount: Decimal | None = None
) -> Payment:
    """The pending Payment a checkout starts from, written (and committed) before the provider is called.

    `amount` is what the customer is charged (the price less a previewed credit; default the price)."""
    return Payment.objects.create(
        account=account,
        provider=provider,
        external_id=f"{CHECKOUT_PREFIX}{uuid.uuid4().hex}",
        amount=price.amount if amount is None else amount,
        currency=price.currency,
        status=PaymentStatus.PENDING,
        plan=plan,
    )


def complete_checkout(
    payment: Payment, *, account: BillingAccount, plan: Plan, price: PlanPrice, return_url: str
) -> Payment:
    """Create the checkout at the provider, outside any transaction, then record its id and URL.

    If the provider fails, nobody can pay without the URL: the intent is removed and the
    ProviderError (ProviderTimeout) goes to the caller.
    """
    try:
        checkout = get_backend(payment.provider).start_checkout(
            account=account, plan=plan, price=price, payment=payment, return_url=return_url
        )
    except ProviderError:
        Payment.objects.filter(pk=payment.pk, external_id=payment.external_id, status=PaymentStatus.PENDING).delete()
        raise
    with billing_transaction():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if is_placeholder(payment.external_id):
            payment.external_id = checkout.external_id
            payment.raw = checkout.raw
        payment.confirmation_url = checkout.confirmation_url
        payment.save(update_fields=["external_id", "confirmation_url", "raw", "updated_at"])
    return payment


def apply_succeeded_payment(
    *,
    payment: Payment,
    actor_label: str,
    period_start: datetime | None = None,
    period_end: datetime | None = None,
    payment_method_id: str = "",
    raw: dict | None = None,
) -> bool:
    """Mark `payment` succeeded and give the account its paid period. False if it already was.

    Call inside the caller's transaction. Locks the account first, then the payment (the order
    every billing writer uses). Paying for the current plan ahead of time extends the period; paying
    during a running trial keeps its remaining days (the paid period starts at the trial's end);
    anything else (new plan, lapsed account) starts the period now, unless the provider states it.
    """
    account = lock_account_by_pk(payment.account_id)
    payment = Payment.objects.select_for_update(of=("self",)).select_related("plan").get(pk=payment.pk)
    if payment.status == PaymentStatus.SUCCEEDED:
        return False
    now = timezone.now()
    before = snapshot(account)
    plan = payment.plan or account.plan
    was_current = is_current(account, now)
    same_plan = account.plan_id == plan.pk
    if period_start is None:
        if was_current and same_plan and account.status == AccountStatus.ACTIVE:
            period_start = account.current_period_end
        elif keeps_trial(account, provider=payment.provider, now=now):
            period_start = account.trial_end
        else:
            period_start = now
    end = period_end or add_interval(period_start, plan.interval)
    continues = (
        same_plan
        and account.status in (AccountStatus.ACTIVE, AccountStatus.PAST_DUE)
        and period_start == account.current_period_end
    )
    if continues:
        # Paid ahead of time: the current period runs on to the new end; otherwise the new period starts.
        start = account.current_period_start if period_start > now else period_start
        action = "subscription.renewed"
    elif account.scheduled_plan_id == plan.pk and period_start >= (account.current_period_end or period_start):
        action, start = "subscription.downgraded", period_start
    elif was_current and account.status == AccountStatus.ACTIVE:
        action, start = "subscription.upgraded", period_start
    else:
        action, start = "subscription.activated", min(period_start, now)
    stop_replaced_subscription(account, provider=payment.provider)
    start_period(account, plan=plan, start=start, end=end, provider=payment.provider, currency=payment.currency)
    if payment_method_id:
        account.provider_payment_method_id = payment_method_id
        account.save(update_fields=["provider_payment_method_id", "updated_at"])
    payment.status = PaymentStatus.SUCCEEDED
    payment.period_start = period_start
    payment.period_end = end
    if raw is not None:
        payment.raw = raw
    payment.save(update_fields=["status", "period_start", "period_end", "raw", "updated_at"])
    announce_payment(payment, organization_id=account.organization_id, plan=plan)
    audit(account, action, before, actor_label=actor_label)
    issue_invoice(payment)
    return True


def announce_payment(payment: Payment, *, organization_id: int, plan: Plan) -> None:
    """The `payment.succeeded` webhook of a payment that just succeeded, sent once the caller commits."""

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    emit(
        organization=organization_id,
        event_type=EventType.PAYMENT_SUCCEEDED,
        payload={
            "payment": {
                "id": payment.pk,
                "provider": payment.provider,
                "amount": str(payment.amount),
                "currency": payment.currency,
                "plan": plan.code,
                "period_start": iso(payment.period_start),
                "period_end": iso(payment.period_end),
            }
        },
    )


def record_failed_payment(*, payment: Payment, status: str, actor_label: str, raw: dict | None = None) -> bool:
    """A provider said the payment will not happen; the account is not changed. False if already final."""
    lock_account_by_pk(payment.account_id)
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.status != PaymentStatus.PENDING:
        return False
    payment.status = status
    if raw is not None:
        payment.raw = raw
    payment.save(update_fields=["status", "raw", "updated_at"])
    record_audit(
        action=f"payment.{status}",
        target=payment,
        organization=payment.account.organization,
        actor_label=actor_label,
        before={"status": PaymentStatus.PENDING},
        after={"status": status, "amount": str(payment.amount), "currency": payment.currency},
    )
    return True
