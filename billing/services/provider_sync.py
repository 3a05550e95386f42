"""Keeping our account and the provider's subscription in agreement, both ways."""

import logging
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from billing.models import AccountStatus, BillingAccount, Plan
from billing.providers import get_backend
from billing.providers.base import ProviderError
from billing.services.accounts import audit, lock_account_by_pk, mark_past_due, snapshot
from tenants.services import record_audit

logger = logging.getLogger(__name__)


def cancel_at_provider(*, provider: str, subscription_id: str, immediate: bool) -> None:
    """Stop a subscription charging at its provider. Call outside any transaction."""
    backend = get_backend(provider) if provider else None
    if backend is not None and subscription_id:
        backend.cancel_subscription(subscription_id=subscription_id, immediate=immediate)


def resume_at_provider(*, provider: str, subscription_id: str, plan: Plan, currency: str) -> None:
    """Undo a cancellation scheduled at the provider; a self-renewing one is also set to bill `plan`
    (the plan the account renews on) from the next period. Call outside any transaction."""
    backend = get_backend(provider) if provider else None
    if backend is not None and subscription_id:
        price = next((p for p in plan.prices.all() if p.currency == currency), None)
        backend.resume_subscription(subscription_id=subscription_id, price=price)


def must_schedule_at_provider(account: BillingAccount) -> bool:
    """Whether a plan change must also be set at the provider: it renews this subscription by itself."""
    backend = get_backend(account.provider) if account.provider else None
    return bool(backend is not None and backend.renews_itself and account.provider_subscription_id)


def schedule_at_provider(*, provider: str, subscription_id: str, plan: Plan, currency: str) -> None:
    """Tell a self-renewing provider (Paddle) to bill `plan` from the next period, so that its renewal
    and webhooks agree with our schedule. Call outside any transaction; its ProviderError means
    nothing was scheduled."""
    price = next((p for p in plan.prices.all() if p.currency == currency), None)
    get_backend(provider).schedule_plan_change(subscription_id=subscription_id, plan=plan, price=price)


def stop_replaced_subscription(account: BillingAccount, *, provider: str, subscription_id: str = "") -> None:
    """A new subscription replaces one at another provider (or another Paddle subscription): forget the
    old one and, once the change is committed, stop it charging, so a customer who upgrades or switches
    provider is never billed twice. Call inside the transaction that applies the new subscription."""
    old_id = account.provider_subscription_id
    if not old_id or (provider == account.provider and subscription_id in ("", old_id)):
        return
    old_provider = account.provider
    account.provider_subscription_id = ""
    account.save(update_fields=["provider_subscription_id", "updated_at"])
    transaction.on_commit(lambda: _cancel_replaced(account, provider=old_provider, subscription_id=old_id))


def _cancel_replaced(account: BillingAccount, *, provider: str, subscription_id: str) -> None:
    """Runs after the commit, outside the transaction. A provider failure cannot undo the new
    subscription the customer paid for: it is logged and audited so that an operator cancels the old
    one at the provider by hand."""
    try:
        cancel_at_provider(provider=provider, subscription_id=subscription_id, immediate=True)
    except ProviderError as error:
        logger.error(
            "could not cancel replaced %s subscription %s of account %s: %s",
            provider,
            subscription_id,
            account.pk,
            error.detail,
        )
        record_audit(
            action="subscription.replaced_cancel_failed",
            target=account,
            organization=account.organization,
            actor_label="system",
            after={"provider": provider, "subscription_id": subscription_id, "error": str(error.detail)},
        )


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
    account = lock_account_by_pk(account.pk)
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
        if status == AccountStatus.PAST_DUE:
            mark_past_due(account, timezone.now())
        else:
            account.status = status
            account.past_due_since = None
        if status == AccountStatus.CANCELED:
            account.cancel_at_period_end = False
            account.scheduled_plan = None
    after = snapshot(account)
    if after == before and not (customer_id or subscription_id):
        return False
    account.save()
    if after != before:
        action = f"subscription.{account.status}" if after["status"] != before["status"] else "subscription.updated"
        audit(account, action, before, actor_label=actor_label)
    return True
