"""The customer's and the operator's subscription actions (SPEC §6): trial, subscribe, cancel, resume, grants."""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from billing.errors import BillingError, BillingErrorCode
from billing.models import AccountStatus, BillingAccount, Payment, PaymentProvider, PaymentStatus, Plan
from billing.periods import add_interval
from billing.providers import get_backend
from billing.selectors import is_operator_grant
from billing.services.accounts import (
    CURRENT_STATUSES,
    audit,
    billing_transaction,
    check_can_manage,
    is_current,
    lock_account,
    snapshot,
    start_period,
)
from billing.services.confirmation import (
    cancellation_request,
    check_confirmation,
    subscription_request,
)
from billing.services.invoices import issue_invoice
from billing.services.payments import announce_payment, checkout_intent, complete_checkout
from billing.services.preview import BillingChange, Preview, plan_change, preview_cancellation, preview_subscription
from billing.services.pricing import check_provider, resolve_plan, resolve_price
from billing.services.provider_sync import (
    cancel_at_provider,
    must_schedule_at_provider,
    resume_at_provider,
    schedule_at_provider,
    stop_replaced_subscription,
)
from tenants.models import Organization

logger = logging.getLogger(__name__)


@dataclass
class SubscribeResult:
    """The account after subscribe(); `checkout_url` is set when the customer must pay at the provider."""

    account: BillingAccount
    checkout_url: str | None = None
    payment: Payment | None = None


def manual_payment(
    account: BillingAccount, *, plan: Plan, amount: Decimal, paid_from: datetime | None = None
) -> Payment:
    """A record of a manual activation or renewal so that history and revenue show it (amount 0 for free
    plans); a paid one has its invoice. It covers the account's period from `paid_from` (default: its
    start; a kept trial is not paid)."""
    payment = Payment.objects.create(
        account=account,
        provider=PaymentProvider.MANUAL,
        external_id=f"manual-{uuid.uuid4().hex}",
        amount=amount,
        currency=account.currency,
        status=PaymentStatus.SUCCEEDED,
        plan=plan,
        period_start=paid_from or account.current_period_start,
        period_end=account.current_period_end,
    )
    announce_payment(payment, organization_id=account.organization_id, plan=plan)
    issue_invoice(payment)
    return payment


def start_trial(*, organization: Organization, actor=None) -> BillingAccount:
    """Give a new organization its one trial of settings.TRIAL_PLAN.

    Registration must never fail because of billing: without the trial plan (plans not seeded
    yet) the account is created with status none and a warning is logged.
    """
    plan = Plan.objects.filter(code=settings.TRIAL_PLAN, is_active=True).first()
    with billing_transaction():
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
        audit(account, "subscription.trial_started", before, actor=actor)
    return account


def subscribe(
    *,
    organization: Organization,
    plan: Plan | str,
    provider: str,
    currency: str | None = None,
    actor,
    return_url: str = "",
    confirmation: str | None = None,
) -> SubscribeResult:
    """Start, upgrade or downgrade a subscription; `actor` must be the organization's owner or admin,
    and a customer's change must carry the `confirmation` of its preview (system code, actor None,
    needs none).

    `manual` activates at once; paying providers return a checkout URL and the account changes
    only when their verified webhook says it was paid. An upgrade (or a lapsed account subscribing)
    starts a new period now, a trial's remaining days are kept, and unused paid time is credited as
    the preview says; a downgrade is scheduled for the end of the current period. Provider calls (the
    checkout, a plan change set at Paddle) run between two short transactions, never inside one.
    """
    check_can_manage(actor=actor, organization=organization)
    plan = resolve_plan(plan)
    check_provider(provider=provider, plan=plan)
    backend = get_backend(provider)
    with billing_transaction():
        account = lock_account(organization)
        price = resolve_price(plan=plan, provider=provider, currency=currency, account=account)
        currency = price.currency if price else account.currency
        preview = preview_subscription(account, plan=plan, provider=provider, price=price, now=timezone.now())
        if actor is not None:
            request = subscription_request(plan_code=plan.code, provider=provider)
            check_confirmation(confirmation, preview=preview, request=request)
        change = preview.change
        if change in SCHEDULE_CHANGES:
            if not must_schedule_at_provider(account):
                return SubscribeResult(_schedule(account, plan=plan, change=change, actor=actor))
            scheduled_at = (account.provider, account.provider_subscription_id)
        elif not backend.needs_checkout:
            return _activate_manually(account, plan=plan, preview=preview, actor=actor)
        else:
            payment = checkout_intent(account, plan=plan, price=price, provider=provider, amount=preview.amount_due)
    if change not in SCHEDULE_CHANGES:
        payment = complete_checkout(payment, account=account, plan=plan, price=price, return_url=return_url)
        return SubscribeResult(account, checkout_url=payment.confirmation_url, payment=payment)
    schedule_at_provider(provider=scheduled_at[0], subscription_id=scheduled_at[1], plan=plan, currency=currency)
    with billing_transaction():
        account = lock_account(organization)
        if (account.provider, account.provider_subscription_id) != scheduled_at or plan_change(
            account, plan=plan, currency=currency, now=timezone.now()
        ) != change:
            _changed_meanwhile(account, scheduled_at[0])
        return SubscribeResult(_schedule(account, plan=plan, change=change, actor=actor))


SCHEDULE_CHANGES = {
    BillingChange.DOWNGRADE: "subscription.downgrade_scheduled",
    BillingChange.UNDO_DOWNGRADE: "subscription.downgrade_canceled",
}


def _changed_meanwhile(account: BillingAccount, provider: str):
    logger.warning("account %s changed while a plan change was set at %s", account.pk, provider)
    raise BillingError(
        BillingErrorCode.CHANGED_MEANWHILE, "The subscription changed meanwhile; please try again.", "plan", 409
    )


def _schedule(account: BillingAccount, *, plan: Plan, change: str, actor) -> BillingAccount:
    before = snapshot(account)
    account.scheduled_plan = plan if change == BillingChange.DOWNGRADE else None
    account.save(update_fields=["scheduled_plan", "updated_at"])
    audit(account, SCHEDULE_CHANGES[change], before, actor=actor)
    return account


def undo_downgrade(*, organization: Organization, actor) -> BillingAccount:
    """Take back a scheduled downgrade: the account renews on its current plan (set at a self-renewing
    provider too, outside any transaction). `actor` must be the owner or an admin; nothing is charged."""
    check_can_manage(actor=actor, organization=organization)
    with billing_transaction():
        account = _with_downgrade(organization)
        if not must_schedule_at_provider(account):
            return _schedule(account, plan=account.plan, change=BillingChange.UNDO_DOWNGRADE, actor=actor)
        asked = _renewal_terms(account)
    schedule_at_provider(
        provider=account.provider,
        subscription_id=account.provider_subscription_id,
        plan=account.plan,
        currency=account.currency,
    )
    with billing_transaction():
        account = _with_downgrade(organization)
        if _renewal_terms(account) != asked:
            _changed_meanwhile(account, account.provider)
        return _schedule(account, plan=account.plan, change=BillingChange.UNDO_DOWNGRADE, actor=actor)


def _with_downgrade(organization: Organization) -> BillingAccount:
    account = lock_account(organization, create=False)
    if account is None or account.scheduled_plan_id is None:
        raise BillingError(BillingErrorCode.NO_DOWNGRADE_SCHEDULED, "No downgrade is scheduled.")
    return account


def _activate_manually(account: BillingAccount, *, plan: Plan, preview: Preview, actor) -> SubscribeResult:
    """Apply the previewed subscription at once: a kept trial joins the paid period (which starts at
    the trial's end), and the payment records what was charged (the price less the credit)."""
    before = snapshot(account)
    now = timezone.now()
    stop_replaced_subscription(account, provider=PaymentProvider.MANUAL)
    start_period(
        account,
        plan=plan,
        start=min(now, preview.starts_at),
        end=add_interval(preview.starts_at, plan.interval),
        provider=PaymentProvider.MANUAL,
        currency=preview.currency,
    )
    payment = manual_payment(account, plan=plan, amount=preview.amount_due, paid_from=preview.starts_at)
    upgrading = preview.change == BillingChange.UPGRADE
    audit(account, "subscription.upgraded" if upgrading else "subscription.activated", before, actor=actor)
    return SubscribeResult(account, payment=payment)


def cancel(
    *, organization: Organization, immediate: bool = False, actor, confirmation: str | None = None
) -> BillingAccount:
    """Cancel at the end of the period (default) or now; the provider stops charging either way.

    `actor` must be the organization's owner or admin; a customer cancelling now must carry the
    `confirmation` of its preview (what is lost). A scheduled downgrade stays, so resuming keeps it."""
    check_can_manage(actor=actor, organization=organization)
    request = cancellation_request(immediate=True) if actor is not None and immediate else None
    return _cancel(
        organization=organization, immediate=immediate, actor=actor, actor_label="", confirm=(request, confirmation)
    )


def cancel_by_operator(*, organization: Organization, actor) -> BillingAccount:
    """An operator ends the subscription now from the admin (the provider stops charging too)."""
    return _cancel(organization=organization, immediate=True, actor=actor, actor_label=f"operator:{actor}")


def _cancellable(organization: Organization) -> BillingAccount:
    account = lock_account(organization, create=False)
    if account is None or account.status not in (*CURRENT_STATUSES, AccountStatus.PAST_DUE):
        raise BillingError(BillingErrorCode.NOT_SUBSCRIBED, "There is no subscription to cancel.")
    return account


def _cancel(
    *, organization: Organization, immediate: bool, actor, actor_label: str, confirm: tuple = (None, None)
) -> BillingAccount:
    """Check, tell the provider (outside any transaction; its refusal changes nothing), then apply."""
    request, confirmation = confirm
    with billing_transaction():
        account = _cancellable(organization)
        if request is not None:
            preview = preview_cancellation(account, immediate=True, now=timezone.now())
            check_confirmation(confirmation, preview=preview, request=request)
        immediate = immediate or account.status == AccountStatus.PAST_DUE
        if not immediate and account.cancel_at_period_end:
            return account
        provider, subscription_id = account.provider, account.provider_subscription_id
    cancel_at_provider(provider=provider, subscription_id=subscription_id, immediate=immediate)
    with billing_transaction():
        account = _cancellable(organization)
        before = snapshot(account)
        if immediate:
            account.status = AccountStatus.CANCELED
            account.current_period_end = timezone.now()
            account.cancel_at_period_end = False
            account.scheduled_plan = None
            account.past_due_since = None
            account.save()
            audit(account, "subscription.canceled", before, actor=actor, actor_label=actor_label)
        elif not account.cancel_at_period_end:
            account.cancel_at_period_end = True
            account.save(update_fields=["cancel_at_period_end", "updated_at"])
            audit(account, "subscription.cancel_scheduled", before, actor=actor, actor_label=actor_label)
    return account


def _resumable(organization: Organization) -> BillingAccount:
    account = lock_account(organization, create=False)
    if account is None or not account.cancel_at_period_end or not is_current(account, timezone.now()):
        raise BillingError(BillingErrorCode.NOT_RESUMABLE, "There is no scheduled cancellation to undo.")
    if is_operator_grant(account=account):
        # A grant ends by design; resuming it would renew a free plan as a paid one.
        raise BillingError(BillingErrorCode.NOT_RESUMABLE, "A plan granted by support ends at its period end.")
    return account


def resume(*, organization: Organization, actor) -> BillingAccount:
    """Undo a cancel-at-period-end before the period ends; `actor` must be the owner or an admin.

    The provider is told what our account shows: at Paddle the cancellation is removed and the
    subscription renews at the price of the plan we renew on — a downgrade scheduled before the
    cancellation is kept. If the account changed while the provider was asked, nothing is resumed
    (409 changed_meanwhile)."""
    check_can_manage(actor=actor, organization=organization)
    with billing_transaction():
        account = _resumable(organization)
        asked = _renewal_terms(account)
    resume_at_provider(
        provider=account.provider,
        subscription_id=account.provider_subscription_id,
        plan=account.scheduled_plan or account.plan,
        currency=account.currency,
    )
    with billing_transaction():
        account = _resumable(organization)
        if _renewal_terms(account) != asked:
            logger.warning("account %s changed while its resumption was set at %s", account.pk, account.provider)
            raise BillingError(
                BillingErrorCode.CHANGED_MEANWHILE,
                "The subscription changed meanwhile; please try again.",
                http_status=409,
            )
        before = snapshot(account)
        account.cancel_at_period_end = False
        account.save(update_fields=["cancel_at_period_end", "updated_at"])
        audit(account, "subscription.resumed", before, actor=actor)
    return account


def _renewal_terms(account: BillingAccount) -> tuple[str, str, int | None, str]:
    """Provider, subscription, plan renewed on and currency: what a resumption tells the provider."""
    return (
        account.provider,
        account.provider_subscription_id,
        account.scheduled_plan_id or account.plan_id,
        account.currency,
    )


def grant_plan(*, organization: Organization, plan: Plan, periods: int, actor) -> BillingAccount:
    """An operator gives `plan` for `periods` periods, free; it ends (canceled) unless renewed by hand.

    On the same current plan the grant extends the period; otherwise it starts now.
    """
    if periods < 1:
        raise BillingError(BillingErrorCode.INVALID_PERIODS, "Grant at least one period.", "periods")
    with billing_transaction():
        account = lock_account(organization)
        before = snapshot(account)
        now = timezone.now()
        if is_current(account, now) and account.plan_id == plan.pk and account.status == AccountStatus.ACTIVE:
            start = account.current_period_start
            end = add_interval(account.current_period_end, plan.interval, periods)
        else:
            start = now
            end = add_interval(now, plan.interval, periods)
        start_period(account, plan=plan, start=start, end=end, provider=PaymentProvider.MANUAL)
        account.cancel_at_period_end = True
        account.save(update_fields=["cancel_at_period_end", "updated_at"])
        audit(account, "subscription.granted", before, actor=actor, actor_label=f"operator:{actor}")
    return account


def extend_trial(*, organization: Organization, days: int, actor) -> BillingAccount:
    """An operator lengthens a running trial by `days`."""
    if days < 1:
        raise BillingError(BillingErrorCode.INVALID_PERIODS, "Extend by at least one day.", "days")
    with billing_transaction():
        account = lock_account(organization, create=False)
        if account is None or account.status != AccountStatus.TRIALING:
            raise BillingError(BillingErrorCode.NOT_TRIALING, "Only a running trial can be extended.")
        before = snapshot(account)
        account.current_period_end = account.trial_end = account.current_period_end + timedelta(days=days)
        account.save(update_fields=["current_period_end", "trial_end", "updated_at"])
        audit(account, "subscription.trial_extended", before, actor=actor, actor_label=f"operator:{actor}")
    return account
