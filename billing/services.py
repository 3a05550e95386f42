"""Writes for billing: the subscription lifecycle of SPEC §6.

Every change locks the organization's billing account row (select_for_update) inside one
transaction and leaves an audit row with the status/plan/period before and after, naming the
customer, operator, webhook (`webhook:<provider>:<event id>`) or `billing_tick` that caused it.
"""

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from billing.models import (
    AccountStatus,
    BillingAccount,
    Payment,
    PaymentProvider,
    PaymentStatus,
    Plan,
    PlanPrice,
)
from billing.periods import add_interval
from billing.providers import enabled_providers, get_backend
from botgeneric.errors import DomainError
from tenants.models import Organization
from tenants.services import record_audit

logger = logging.getLogger(__name__)

TICK_ACTOR = "billing_tick"
CURRENT_STATUSES = (AccountStatus.TRIALING, AccountStatus.ACTIVE)


class BillingErrorCode(models.TextChoices):
    UNKNOWN_PLAN = "unknown_plan", "Unknown plan"
    PROVIDER_DISABLED = "provider_disabled", "Payment provider disabled"
    PROVIDER_NOT_SUPPORTED = "provider_not_supported", "The provider cannot do this"
    CURRENCY_NOT_OFFERED = "currency_not_offered", "Currency not offered"
    ALREADY_SUBSCRIBED = "already_subscribed", "Already subscribed to this plan"
    NOT_SUBSCRIBED = "not_subscribed", "No current subscription"
    NOT_RESUMABLE = "not_resumable", "Nothing to resume"
    NOT_TRIALING = "not_trialing", "Not in a trial"
    INVALID_PERIODS = "invalid_periods", "Invalid number of periods"


class BillingError(DomainError):
    code = "billing_error"
    http_status = 400

    def __init__(self, code: BillingErrorCode, detail: str = "", field_name: str | None = None, http_status=None):
        extra = {"fields": {field_name: [detail or code.label]}} if field_name else None
        super().__init__(str(code), detail or code.label, http_status, extra)


@dataclass
class SubscribeResult:
    """The account after subscribe(); `checkout_url` is set when the customer must pay at the provider."""

    account: BillingAccount
    checkout_url: str | None = None
    payment: Payment | None = None


@dataclass
class TickResult:
    """What one billing_tick run did, for its log line."""

    processed: int = 0
    actions: dict[str, int] = field(default_factory=dict)

    def count(self, action: str) -> None:
        self.processed += 1
        self.actions[action] = self.actions.get(action, 0) + 1


# --- helpers -----------------------------------------------------------------------------------


def snapshot(account: BillingAccount) -> dict:
    """The audited part of an account: status, plan and period."""

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "status": account.status,
        "plan": account.plan.code if account.plan_id else None,
        "period_start": iso(account.current_period_start),
        "period_end": iso(account.current_period_end),
        "trial_end": iso(account.trial_end),
        "cancel_at_period_end": account.cancel_at_period_end,
        "scheduled_plan": account.scheduled_plan.code if account.scheduled_plan_id else None,
        "provider": account.provider,
    }


def _audit(account: BillingAccount, action: str, before: dict, *, actor=None, actor_label: str = "") -> None:
    record_audit(
        action=action,
        target=account,
        organization=account.organization,
        actor=actor,
        actor_label=actor_label,
        before=before,
        after=snapshot(account),
    )


def lock_account(organization: Organization, *, create: bool = True) -> BillingAccount | None:
    """The organization's account, row-locked until the surrounding transaction ends."""
    if create:
        BillingAccount.objects.get_or_create(organization=organization)
    return (
        BillingAccount.objects.select_for_update(of=("self",))
        .select_related("plan", "scheduled_plan", "organization")
        .filter(organization=organization)
        .first()
    )


def _lock_account_by_pk(account_id: int) -> BillingAccount:
    return (
        BillingAccount.objects.select_for_update(of=("self",))
        .select_related("plan", "scheduled_plan", "organization")
        .get(pk=account_id)
    )


def resolve_plan(plan: Plan | str) -> Plan:
    """A Plan instance, or the active plan with that code; unknown_plan otherwise."""
    if isinstance(plan, Plan):
        if not plan.is_active:
            raise BillingError(BillingErrorCode.UNKNOWN_PLAN, "This plan is not offered.", "plan")
        return plan
    found = Plan.objects.filter(code=plan, is_active=True).first()
    if found is None:
        raise BillingError(BillingErrorCode.UNKNOWN_PLAN, f"No active plan {plan!r}.", "plan")
    return found


def plan_is_free(plan: Plan) -> bool:
    """A plan with no prices, or only zero prices, costs nothing in any currency."""
    return all(price.amount == 0 for price in plan.prices.all())


def resolve_price(
    *, plan: Plan, provider: str, currency: str | None, account: BillingAccount | None
) -> PlanPrice | None:
    """The price the customer pays. Free plans without prices give None (only `manual` takes them)."""
    backend = get_backend(provider)
    prices = {price.currency: price for price in plan.prices.all()}
    offered = {currency for currency, price in prices.items() if backend.supports_price(price)}
    if currency:
        currency = currency.upper()
        if currency not in offered:
            raise BillingError(
                BillingErrorCode.CURRENCY_NOT_OFFERED,
                f"{plan.code} is not offered in {currency} through {provider}.",
                "currency",
            )
        return prices[currency]
    if not prices and provider == PaymentProvider.MANUAL:
        return None
    for preferred in (account.currency if account else None, "USD"):
        if preferred in offered:
            return prices[preferred]
    if offered:
        return prices[sorted(offered)[0]]
    raise BillingError(
        BillingErrorCode.CURRENCY_NOT_OFFERED, f"{plan.code} has no price {provider} can charge.", "currency"
    )


def _check_provider(*, provider: str, plan: Plan) -> None:
    if get_backend(provider) is None:
        raise BillingError(BillingErrorCode.PROVIDER_DISABLED, f"Unknown provider {provider!r}.", "provider")
    if provider in enabled_providers():
        return
    if provider == PaymentProvider.MANUAL and plan_is_free(plan):
        return
    raise BillingError(BillingErrorCode.PROVIDER_DISABLED, f"Payments through {provider} are off.", "provider")


def _is_current(account: BillingAccount, now: datetime) -> bool:
    return (
        account.status in CURRENT_STATUSES
        and account.current_period_end is not None
        and account.current_period_end > now
    )


def _plan_rank(plan: Plan, currency: str) -> tuple:
    price = next((p.amount for p in plan.prices.all() if p.currency == currency), None)
    return (price if price is not None else Decimal(-1), plan.display_order)


def _is_downgrade(current: Plan, new: Plan, currency: str) -> bool:
    """Cheaper per period in the account's currency (display order breaks ties) means downgrade."""
    return _plan_rank(new, currency) < _plan_rank(current, currency)


def _start_period(
    account: BillingAccount,
    *,
    plan: Plan,
    start: datetime,
    end: datetime | None = None,
    provider: str,
    currency: str | None = None,
) -> None:
    account.plan = plan
    account.status = AccountStatus.ACTIVE
    account.current_period_start = start
    account.current_period_end = end or add_interval(start, plan.interval)
    account.cancel_at_period_end = False
    account.scheduled_plan = None
    account.past_due_since = None
    account.provider = provider
    if currency:
        account.currency = currency
    account.save()


def stop_replaced_subscription(account: BillingAccount, *, provider: str, subscription_id: str = "") -> None:
    """A new subscription replaces one at another provider (or another Paddle subscription): stop the old
    one charging now, so a customer who upgrades or switches provider is never billed twice."""
    old_id = account.provider_subscription_id
    if not old_id or (provider == account.provider and subscription_id in ("", old_id)):
        return
    _cancel_at_provider(account, immediate=True)
    account.provider_subscription_id = ""
    account.save(update_fields=["provider_subscription_id", "updated_at"])


def _schedule_at_provider(account: BillingAccount, plan: Plan) -> None:
    """Tell a self-renewing provider (Paddle) to bill `plan` from the next period, so that its renewal
    and webhooks agree with our schedule. Its ProviderError rolls the caller's transaction back."""
    backend = get_backend(account.provider) if account.provider else None
    if backend is not None:
        price = next((p for p in plan.prices.all() if p.currency == account.currency), None)
        backend.schedule_plan_change(account=account, plan=plan, price=price)


def _manual_payment(account: BillingAccount, *, plan: Plan, price: PlanPrice | None) -> Payment:
    """A record of a manual activation so that history and revenue show it (amount 0 for free plans)."""
    return Payment.objects.create(
        account=account,
        provider=PaymentProvider.MANUAL,
        external_id=f"manual-{uuid.uuid4().hex}",
        amount=price.amount if price else Decimal("0"),
        currency=price.currency if price else account.currency,
        status=PaymentStatus.SUCCEEDED,
        plan=plan,
        period_start=account.current_period_start,
        period_end=account.current_period_end,
    )


# --- customer actions --------------------------------------------------------------------------


def start_trial(*, organization: Organization, actor=None) -> BillingAccount:
    """Give a new organization its one trial of settings.TRIAL_PLAN.

    Registration must never fail because of billing: without the trial plan (plans not seeded
    yet) the account is created with status none and a warning is logged.
    """
    plan = Plan.objects.filter(code=settings.TRIAL_PLAN, is_active=True).first()
    with transaction.atomic():
        account = lock_account(organization)
        if plan is None or plan.trial_days == 0:
            logger.warning(
                "no trial for organization %s: trial plan %r is missing or has no trial days",
                organization.pk,
                settings.TRIAL_PLAN,
            )
            return account
        if account.trial_used or account.status != AccountStatus.NONE:
            return account
        before = snapshot(account)
        now = timezone.now()
        account.plan = plan
        account.status = AccountStatus.TRIALING
        account.current_period_start = now
        account.current_period_end = account.trial_end = now + timedelta(days=plan.trial_days)
        account.trial_used = True
        account.save()
        _audit(account, "subscription.trial_started", before, actor=actor)
    return account


def subscribe(
    *,
    organization: Organization,
    plan: Plan | str,
    provider: str,
    currency: str | None = None,
    actor=None,
    actor_label: str = "",
    return_url: str = "",
) -> SubscribeResult:
    """Start, upgrade or downgrade a subscription.

    `manual` activates at once; paying providers return a checkout URL and the account changes
    only when their verified webhook says it was paid. An upgrade (or a trial, expired or
    canceled account subscribing) starts a new period now; a downgrade is scheduled for the end
    of the current period.
    """
    plan = resolve_plan(plan)
    _check_provider(provider=provider, plan=plan)
    backend = get_backend(provider)
    with transaction.atomic():
        account = lock_account(organization)
        price = resolve_price(plan=plan, provider=provider, currency=currency, account=account)
        currency = price.currency if price else account.currency
        now = timezone.now()
        before = snapshot(account)
        if _is_current(account, now) and account.status == AccountStatus.ACTIVE:
            if account.plan_id == plan.pk:
                if account.scheduled_plan_id is None:
                    raise BillingError(BillingErrorCode.ALREADY_SUBSCRIBED, f"Already on {plan.code}.", "plan")
                _schedule_at_provider(account, plan)
                account.scheduled_plan = None
                account.save(update_fields=["scheduled_plan", "updated_at"])
                _audit(account, "subscription.downgrade_canceled", before, actor=actor, actor_label=actor_label)
                return SubscribeResult(account)
            if _is_downgrade(account.plan, plan, currency):
                _schedule_at_provider(account, plan)
                account.scheduled_plan = plan
                account.save(update_fields=["scheduled_plan", "updated_at"])
                _audit(account, "subscription.downgrade_scheduled", before, actor=actor, actor_label=actor_label)
                return SubscribeResult(account)
        if not backend.needs_checkout:
            upgrading = _is_current(account, now) and account.status == AccountStatus.ACTIVE
            action = "subscription.upgraded" if upgrading else "subscription.activated"
            stop_replaced_subscription(account, provider=provider)
            _start_period(account, plan=plan, start=now, provider=provider, currency=currency)
            payment = _manual_payment(account, plan=plan, price=price)
            _audit(account, action, before, actor=actor, actor_label=actor_label)
            return SubscribeResult(account, payment=payment)
        payment = _start_checkout(account, plan=plan, price=price, provider=provider, return_url=return_url)
        return SubscribeResult(account, checkout_url=payment.confirmation_url, payment=payment)


def start_payment(
    *,
    organization: Organization,
    provider: str,
    plan: Plan | str | None = None,
    currency: str | None = None,
    return_url: str = "",
) -> Payment:
    """Start a payment for one period of `plan` (default: the account's plan) at a paying provider.

    The account changes only when the provider confirms the payment (webhook or re-fetch).
    """
    with transaction.atomic():
        account = lock_account(organization)
        if plan is None:
            if account.plan is None:
                raise BillingError(BillingErrorCode.UNKNOWN_PLAN, "Choose a plan to pay for.", "plan")
            plan = account.plan
        plan = resolve_plan(plan)
        _check_provider(provider=provider, plan=plan)
        if not get_backend(provider).needs_checkout:
            raise BillingError(
                BillingErrorCode.PROVIDER_NOT_SUPPORTED, f"{provider} does not take payments.", "provider"
            )
        price = resolve_price(plan=plan, provider=provider, currency=currency, account=account)
        return _start_checkout(account, plan=plan, price=price, provider=provider, return_url=return_url)


def _start_checkout(
    account: BillingAccount, *, plan: Plan, price: PlanPrice, provider: str, return_url: str
) -> Payment:
    """A pending Payment plus the provider's checkout; a provider failure rolls both back."""
    payment = Payment.objects.create(
        account=account,
        provider=provider,
        external_id=f"pending-{uuid.uuid4().hex}",
        amount=price.amount,
        currency=price.currency,
        status=PaymentStatus.PENDING,
        plan=plan,
    )
    checkout = get_backend(provider).start_checkout(
        account=account, plan=plan, price=price, payment=payment, return_url=return_url
    )
    payment.external_id = checkout.external_id
    payment.confirmation_url = checkout.confirmation_url
    payment.raw = checkout.raw
    payment.save(update_fields=["external_id", "confirmation_url", "raw", "updated_at"])
    return payment


def cancel(*, organization: Organization, immediate: bool = False, actor=None, actor_label: str = "") -> BillingAccount:
    """Cancel at the end of the period (default) or now; the provider stops charging either way."""
    with transaction.atomic():
        account = lock_account(organization, create=False)
        statuses = (*CURRENT_STATUSES, AccountStatus.PAST_DUE)
        if account is None or account.status not in statuses:
            raise BillingError(BillingErrorCode.NOT_SUBSCRIBED, "There is no subscription to cancel.")
        before = snapshot(account)
        now = timezone.now()
        if immediate or account.status == AccountStatus.PAST_DUE:
            _cancel_at_provider(account, immediate=True)
            account.status = AccountStatus.CANCELED
            account.current_period_end = now
            account.cancel_at_period_end = False
            account.scheduled_plan = None
            account.past_due_since = None
            account.save()
            _audit(account, "subscription.canceled", before, actor=actor, actor_label=actor_label)
        elif not account.cancel_at_period_end:
            _cancel_at_provider(account, immediate=False)
            account.cancel_at_period_end = True
            account.scheduled_plan = None
            account.save(update_fields=["cancel_at_period_end", "scheduled_plan", "updated_at"])
            _audit(account, "subscription.cancel_scheduled", before, actor=actor, actor_label=actor_label)
    return account


def _cancel_at_provider(account: BillingAccount, *, immediate: bool) -> None:
    backend = get_backend(account.provider) if account.provider else None
    if backend is not None:
        backend.cancel_subscription(account=account, immediate=immediate)


def resume(*, organization: Organization, actor=None, actor_label: str = "") -> BillingAccount:
    """Undo a cancel-at-period-end before the period ends."""
    with transaction.atomic():
        account = lock_account(organization, create=False)
        if account is None or not account.cancel_at_period_end or not _is_current(account, timezone.now()):
            raise BillingError(BillingErrorCode.NOT_RESUMABLE, "There is no scheduled cancellation to undo.")
        before = snapshot(account)
        backend = get_backend(account.provider) if account.provider else None
        if backend is not None:
            backend.resume_subscription(account=account)
        account.cancel_at_period_end = False
        account.save(update_fields=["cancel_at_period_end", "updated_at"])
        _audit(account, "subscription.resumed", before, actor=actor, actor_label=actor_label)
    return account


# --- operator actions (admin) ------------------------------------------------------------------


def grant_plan(*, organization: Organization, plan: Plan, periods: int, actor) -> BillingAccount:
    """An operator gives `plan` for `periods` periods, free; it ends (canceled) unless renewed by hand.

    On the same current plan the grant extends the period; otherwise it starts now.
    """
    if periods < 1:
        raise BillingError(BillingErrorCode.INVALID_PERIODS, "Grant at least one period.", "periods")
    with transaction.atomic():
        account = lock_account(organization)
        before = snapshot(account)
        now = timezone.now()
        if _is_current(account, now) and account.plan_id == plan.pk and account.status == AccountStatus.ACTIVE:
            start = account.current_period_start
            end = add_interval(account.current_period_end, plan.interval, periods)
        else:
            start = now
            end = add_interval(now, plan.interval, periods)
        _start_period(account, plan=plan, start=start, end=end, provider=PaymentProvider.MANUAL)
        account.cancel_at_period_end = True
        account.save(update_fields=["cancel_at_period_end", "updated_at"])
        _audit(account, "subscription.granted", before, actor=actor, actor_label=f"operator:{actor}")
    return account


def extend_trial(*, organization: Organization, days: int, actor) -> BillingAccount:
    """An operator lengthens a running trial by `days`."""
    if days < 1:
        raise BillingError(BillingErrorCode.INVALID_PERIODS, "Extend by at least one day.", "days")
    with transaction.atomic():
        account = lock_account(organization, create=False)
        if account is None or account.status != AccountStatus.TRIALING:
            raise BillingError(BillingErrorCode.NOT_TRIALING, "Only a running trial can be extended.")
        before = snapshot(account)
        account.current_period_end = account.trial_end = account.current_period_end + timedelta(days=days)
        account.save(update_fields=["current_period_end", "trial_end", "updated_at"])
        _audit(account, "subscription.trial_extended", before, actor=actor, actor_label=f"operator:{actor}")
    return account


# --- payments confirmed by providers -----------------------------------------------------------


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
    every billing writer uses). Paying for the current plan ahead of time extends the period;
    anything else (new plan, lapsed account) starts the period now, unless the provider states it.
    """
    account = _lock_account_by_pk(payment.account_id)
    payment = Payment.objects.select_for_update(of=("self",)).select_related("plan").get(pk=payment.pk)
    if payment.status == PaymentStatus.SUCCEEDED:
        return False
    now = timezone.now()
    before = snapshot(account)
    plan = payment.plan or account.plan
    was_current = _is_current(account, now)
    same_plan = account.plan_id == plan.pk
    if period_start is None:
        if was_current and same_plan and account.status == AccountStatus.ACTIVE:
            period_start = account.current_period_end
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
        action, start = "subscription.activated", period_start
    stop_replaced_subscription(account, provider=payment.provider)
    _start_period(account, plan=plan, start=start, end=end, provider=payment.provider, currency=payment.currency)
    if payment_method_id:
        account.provider_payment_method_id = payment_method_id
        account.save(update_fields=["provider_payment_method_id", "updated_at"])
    payment.status = PaymentStatus.SUCCEEDED
    payment.period_start = period_start
    payment.period_end = end
    if raw is not None:
        payment.raw = raw
    payment.save(update_fields=["status", "period_start", "period_end", "raw", "updated_at"])
    _audit(account, action, before, actor_label=actor_label)
    return True


def record_failed_payment(*, payment: Payment, status: str, actor_label: str, raw: dict | None = None) -> bool:
    """A provider said the payment will not happen; the account is not changed. False if already final."""
    _lock_account_by_pk(payment.account_id)
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


def note_provider_event(*, account: BillingAccount, occurred_at: datetime | None) -> bool:
    """Record that a provider event which happened at `occurred_at` is being applied to `account`.

    False when a newer event was already applied (a late delivery must not overwrite newer state).
    One conditional UPDATE, so it also takes the account's row lock for the caller's transaction.
    Events without a time are always applied.
    """
    if occurred_at is None:
        return True
    fresh = Q(provider_event_at__isnull=True) | Q(provider_event_at__lte=occurred_at)
    return bool(BillingAccount.objects.filter(fresh, pk=account.pk).update(provider_event_at=occurred_at))


def sync_provider_state(
    *,
    account: BillingAccount,
    actor_label: str,
    status: str | None = None,
    plan: Plan | None = None,
    period_start: datetime | None = None,
    period_end: datetime | None = None,
    cancel_at_period_end: bool | None = None,
    provider: str = "",
    customer_id: str = "",
    subscription_id: str = "",
) -> bool:
    """Bring the account in line with what a self-renewing provider (Paddle) reports.

    The provider reporting our scheduled (downgrade) plan before the period turns only confirms
    the schedule: the customer keeps the plan paid for until then. Values are absolute (not "extend
    by one"), so applying the same report twice changes nothing.
    Returns whether anything changed; only a change is audited.
    """
    account = _lock_account_by_pk(account.pk)
    before = snapshot(account)
    if provider:
        account.provider = provider
    if customer_id:
        account.provider_customer_id = customer_id
    if subscription_id:
        account.provider_subscription_id = subscription_id
    turned = period_start is not None and account.current_period_end is not None
    turned = turned and period_start >= account.current_period_end
    if plan is not None and (account.scheduled_plan_id != plan.pk or turned):
        account.plan = plan
        if account.scheduled_plan_id == plan.pk:
            account.scheduled_plan = None
    if period_start is not None:
        account.current_period_start = period_start
    if period_end is not None:
        account.current_period_end = period_end
    if cancel_at_period_end is not None:
        account.cancel_at_period_end = cancel_at_period_end
    if status is not None and status != account.status:
        account.status = status
        account.past_due_since = timezone.now() if status == AccountStatus.PAST_DUE else None
        if status == AccountStatus.CANCELED:
            account.cancel_at_period_end = False
    after = snapshot(account)
    if after == before and not (customer_id or subscription_id):
        return False
    account.save()
    if after != before:
        action = f"subscription.{account.status}" if after["status"] != before["status"] else "subscription.updated"
        _audit(account, action, before, actor_label=actor_label)
    return True


# --- billing_tick ------------------------------------------------------------------------------


def _due_filter(now: datetime) -> Q:
    grace = timedelta(days=settings.BILLING_GRACE_DAYS)
    return Q(status__in=CURRENT_STATUSES, current_period_end__lte=now) | Q(
        status=AccountStatus.PAST_DUE, past_due_since__lte=now - grace
    )


def run_billing_tick(*, now: datetime | None = None) -> TickResult:
    """Close ended periods: renew, cancel, downgrade, move to past_due or expired.

    One account per transaction, taken with SKIP LOCKED in primary-key order, so two runs at
    once share the work and never handle the same account twice; running it again right after
    finds nothing due, so it is safe every minute.
    """
    result = TickResult()
    seen: list[int] = []
    while True:
        moment = now or timezone.now()
        with transaction.atomic():
            account = (
                BillingAccount.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("plan", "scheduled_plan", "organization")
                .filter(_due_filter(moment))
                .exclude(pk__in=seen)
                .order_by("pk")
                .first()
            )
            if account is None:
                return result
            seen.append(account.pk)
            result.count(_advance(account, moment))


def _advance(account: BillingAccount, now: datetime) -> str:
    before = snapshot(account)
    if account.status == AccountStatus.PAST_DUE:
        return _end(account, AccountStatus.EXPIRED, before)
    if account.cancel_at_period_end:
        return _end(account, AccountStatus.CANCELED, before)
    if account.status == AccountStatus.TRIALING:
        return _end(account, AccountStatus.EXPIRED, before)
    if account.scheduled_plan_id:
        account.plan = account.scheduled_plan
        account.scheduled_plan = None
        account.save(update_fields=["plan", "scheduled_plan", "updated_at"])
        _audit(account, "subscription.downgraded", before, actor_label=TICK_ACTOR)
        before = snapshot(account)
    return _renew(account, now, before)


def _end(account: BillingAccount, status: str, before: dict) -> str:
    account.status = status
    account.cancel_at_period_end = False
    account.scheduled_plan = None
    account.past_due_since = None
    account.save()
    _audit(account, f"subscription.{status}", before, actor_label=TICK_ACTOR)
    return status


def _renew(account: BillingAccount, now: datetime, before: dict) -> str:
    plan = account.plan
    start = account.current_period_end
    end = add_interval(start, plan.interval)
    if account.provider == PaymentProvider.MANUAL or not account.provider:
        if PaymentProvider.MANUAL in enabled_providers() or plan_is_free(plan):
            price = next((p for p in plan.prices.all() if p.currency == account.currency), None)
            _start_period(account, plan=plan, start=start, end=end, provider=PaymentProvider.MANUAL)
            _manual_payment(account, plan=plan, price=price)
            _audit(account, "subscription.renewed", before, actor_label=TICK_ACTOR)
            return "renewed"
        return _end(account, AccountStatus.EXPIRED, before)
    paid = _charge_renewal(account, plan=plan, period=(start, end))
    if paid is not None:
        apply_succeeded_payment(payment=paid, actor_label=TICK_ACTOR, period_start=start, period_end=end)
        return "renewed"
    account.status = AccountStatus.PAST_DUE
    account.past_due_since = now
    account.save(update_fields=["status", "past_due_since", "updated_at"])
    _audit(account, "subscription.past_due", before, actor_label=TICK_ACTOR)
    return "past_due"


def _charge_renewal(account: BillingAccount, *, plan: Plan, period: tuple[datetime, datetime]) -> Payment | None:
    """Charge the saved method (YooKassa) once per period; the payment if it succeeded at once.

    The idempotence key is the period itself, so a retried or concurrent charge is one payment.
    """
    backend = get_backend(account.provider)
    price = plan.prices.filter(currency=account.currency).first()
    if backend is None or price is None or not account.provider_payment_method_id:
        return None
    key = f"renew-{account.pk}-{plan.code}-{period[0].isoformat()}"
    try:
        charge = backend.charge_saved_method(
            account=account, plan=plan, price=price, idempotence_key=key, period=period
        )
    except DomainError:
        logger.warning("renewal charge failed for account %s", account.pk, exc_info=True)
        return None
    if charge is None:
        return None
    payment, _ = Payment.objects.get_or_create(
        provider=account.provider,
        external_id=charge.external_id,
        defaults={
            "account": account,
            "amount": charge.amount,
            "currency": charge.currency,
            "plan": plan,
            "period_start": period[0],
            "period_end": period[1],
            "raw": charge.raw,
        },
    )
    if charge.status in (PaymentStatus.CANCELED, PaymentStatus.FAILED):
        record_failed_payment(payment=payment, status=charge.status, actor_label=TICK_ACTOR, raw=charge.raw)
    return payment if charge.status == PaymentStatus.SUCCEEDED else None
