"""billing_tick: close ended periods (renew, cancel, downgrade, past_due, expired)."""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from billing.models import AccountStatus, BillingAccount, Payment, PaymentProvider, PaymentStatus, Plan
from billing.periods import add_interval
from billing.providers import enabled_providers, get_backend
from billing.services.accounts import CURRENT_STATUSES, audit, snapshot, start_period
from billing.services.payments import apply_succeeded_payment, record_failed_payment
from billing.services.pricing import plan_is_free
from billing.services.subscriptions import manual_payment
from botgeneric.errors import DomainError

logger = logging.getLogger(__name__)

TICK_ACTOR = "billing_tick"


@dataclass
class TickResult:
    """What one billing_tick run did, for its log line."""

    processed: int = 0
    actions: dict[str, int] = field(default_factory=dict)

    def count(self, action: str) -> None:
        self.processed += 1
        self.actions[action] = self.actions.get(action, 0) + 1


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
        audit(account, "subscription.downgraded", before, actor_label=TICK_ACTOR)
        before = snapshot(account)
    return _renew(account, now, before)


def _end(account: BillingAccount, status: str, before: dict) -> str:
    account.status = status
    account.cancel_at_period_end = False
    account.scheduled_plan = None
    account.past_due_since = None
    account.save()
    audit(account, f"subscription.{status}", before, actor_label=TICK_ACTOR)
    return status


def _renew(account: BillingAccount, now: datetime, before: dict) -> str:
    plan = account.plan
    start = account.current_period_end
    end = add_interval(start, plan.interval)
    if account.provider == PaymentProvider.MANUAL or not account.provider:
        price = next((p for p in plan.prices.all() if p.currency == account.currency), None)
        # Manual renewals are free plans, or (development, demos) paid plans recorded at their price;
        # a plan without a price is neither, so it ends.
        if plan_is_free(plan) or (PaymentProvider.MANUAL in enabled_providers() and price is not None):
            start_period(account, plan=plan, start=start, end=end, provider=PaymentProvider.MANUAL)
            manual_payment(account, plan=plan, price=price)
            audit(account, "subscription.renewed", before, actor_label=TICK_ACTOR)
            return "renewed"
        return _end(account, AccountStatus.EXPIRED, before)
    paid = _charge_renewal(account, plan=plan, period=(start, end))
    if paid is not None:
        apply_succeeded_payment(payment=paid, actor_label=TICK_ACTOR, period_start=start, period_end=end)
        return "renewed"
    account.status = AccountStatus.PAST_DUE
    account.past_due_since = now
    account.save(update_fields=["status", "past_due_since", "updated_at"])
    audit(account, "subscription.past_due", before, actor_label=TICK_ACTOR)
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
