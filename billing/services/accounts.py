"""The billing account as every writer handles it: locked, snapshotted for the audit, given a period.

Every change locks the organization's billing account row (select_for_update) inside one
transaction and leaves an audit row with the status/plan/period before and after, naming the
customer, operator, webhook (`webhook:<provider>:<event id>`) or `billing_tick` that caused it.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from django.conf import settings
from django.db import OperationalError, connection, transaction

from billing.errors import BillingError, BillingErrorCode
from billing.models import AccountStatus, BillingAccount, Plan
from billing.periods import add_interval
from billing.signals import subscription_changed
from tenants.errors import TenantErrorCode
from tenants.models import Organization
from tenants.services import record_audit
from webhooks.models import EventType
from webhooks.services import emit

CURRENT_STATUSES = (AccountStatus.TRIALING, AccountStatus.ACTIVE)
LOCK_NOT_AVAILABLE = "55P03"


@contextmanager
def billing_transaction() -> Iterator[None]:
    """One short billing transaction whose row locks wait at most BILLING_LOCK_TIMEOUT_SECONDS.

    Provider calls never run inside one (they happen between two of these), so a lock is held for
    milliseconds; a wait longer than the timeout means something is wrong, and the caller gets
    `billing_busy` (503) instead of a request that hangs behind it.
    """
    outermost = not connection.in_atomic_block
    try:
        with transaction.atomic():
            # Nested in a caller's transaction (registration starting the trial), the caller's settings stay.
            if outermost and connection.vendor == "postgresql":
                milliseconds = int(settings.BILLING_LOCK_TIMEOUT_SECONDS * 1000)
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{milliseconds}ms"])
            yield
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        raise BillingError(
            BillingErrorCode.BUSY, "The billing account is busy; try again in a moment.", http_status=503
        ) from exc


def check_can_manage(*, actor, organization: Organization) -> None:
    """A customer changes what an organization pays for only as its owner or an admin, whichever
    channel the request came through. `actor=None` is the system itself (billing_tick, set-up code);
    operators act through their own services (grant_plan, extend_trial, cancel_by_operator)."""
    if actor is None:
        return
    if actor.organization_id != organization.pk or not actor.can_manage_organization:
        raise BillingError(
            TenantErrorCode.FORBIDDEN_ROLE,
            "Only the organization's owner or an admin can manage billing.",
            http_status=403,
        )


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


def audit(account: BillingAccount, action: str, before: dict, *, actor=None, actor_label: str = "") -> None:
    """The audit row of a subscription change, its `subscription.changed` webhook once committed, and
    `billing.signals.subscription_changed` for the receivers in this transaction (notices)."""
    after = snapshot(account)
    record_audit(
        action=action,
        target=account,
        organization=account.organization,
        actor=actor,
        actor_label=actor_label,
        before=before,
        after=after,
    )
    emit(
        organization=account.organization_id,
        event_type=EventType.SUBSCRIPTION_CHANGED,
        payload={"change": action.removeprefix("subscription."), "previous": before, "subscription": after},
    )
    subscription_changed.send(sender=BillingAccount, account=account, action=action, before=before, after=after)


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


def lock_account_by_pk(account_id: int) -> BillingAccount:
    return (
        BillingAccount.objects.select_for_update(of=("self",))
        .select_related("plan", "scheduled_plan", "organization")
        .get(pk=account_id)
    )


def is_current(account: BillingAccount, now: datetime) -> bool:
    return (
        account.status in CURRENT_STATUSES
        and account.current_period_end is not None
        and account.current_period_end > now
    )


def mark_past_due(account: BillingAccount, now: datetime) -> None:
    """The renewal failed: past_due from `now` (access for BILLING_GRACE_DAYS more, retries meanwhile).
    The caller saves and audits (the audit's `subscription.past_due` is what tells the owners)."""
    account.status = AccountStatus.PAST_DUE
    account.past_due_since = now


def start_period(
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
