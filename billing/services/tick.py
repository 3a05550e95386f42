"""billing_tick: close ended periods (renew, cancel, downgrade, past_due, expired), retry failed
renewals during the grace period, and ask a self-renewing provider about renewals it did not report."""

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from billing.models import AccountStatus, BillingAccount, Payment, PaymentProvider, PaymentStatus, WebhookOutcome
from billing.periods import add_interval
from billing.providers import BACKENDS, enabled_providers, get_backend
from billing.providers.base import EventRefused, PaymentNotFound, ProviderError
from billing.selectors import SELF_RENEWING_PROVIDERS, renews_at_provider
from billing.services.accounts import (
    CURRENT_STATUSES,
    audit,
    billing_transaction,
    lock_account_by_pk,
    mark_past_due,
    snapshot,
    start_period,
)
from billing.services.payments import RENEWAL_PREFIX, is_placeholder, record_failed_payment
from billing.services.pricing import plan_is_free
from billing.services.provider_events import apply_payment_report, apply_provider_report
from billing.services.subscriptions import manual_payment
from botgeneric import metrics
from botgeneric.errors import DomainError

logger = logging.getLogger(__name__)

TICK_ACTOR = "billing_tick"
SAVED_METHOD_PROVIDERS = frozenset(name for name, backend in BACKENDS.items() if backend.charges_saved_methods)
#: A payment still pending this long after we last heard of it is re-fetched from its provider.
PENDING_RECONCILE_AFTER = timedelta(minutes=10)
RECONCILE_BATCH = 200
#: A past_due renewal at a provider that charges saved methods (YooKassa) is retried this often.
RENEWAL_RETRY_EVERY = timedelta(days=1)
#: A self-renewing provider that still reports no renewal is asked again after this.
PROVIDER_RECHECK_EVERY = timedelta(hours=1)


@dataclass
class TickResult:
    """What one billing_tick run did, for its log line."""

    processed: int = 0
    actions: dict[str, int] = field(default_factory=dict)

    def count(self, action: str) -> None:
        self.processed += 1
        self.actions[action] = self.actions.get(action, 0) + 1


def _due_filter(now: datetime) -> Q:
    """Accounts with something to do now: an ended period (a self-renewing subscription only once
    BILLING_RENEWAL_WAIT_HOURS passed without a renewal event, then hourly), a grace period over, or a
    failed saved-method renewal whose daily retry is due."""
    grace = timedelta(days=settings.BILLING_GRACE_DAYS)
    wait = timedelta(hours=settings.BILLING_RENEWAL_WAIT_HOURS)
    renewing = Q(provider__in=SELF_RENEWING_PROVIDERS) & ~Q(provider_subscription_id="") & Q(cancel_at_period_end=False)
    not_heard_lately = Q(provider_event_at__isnull=True) | Q(provider_event_at__lte=now - PROVIDER_RECHECK_EVERY)
    ended = Q(status__in=CURRENT_STATUSES, current_period_end__lte=now) & ~renewing
    unreported = Q(status__in=CURRENT_STATUSES, current_period_end__lte=now - wait) & renewing & not_heard_lately
    tried_lately = Exists(
        Payment.objects.filter(
            account=OuterRef("pk"),
            period_start=OuterRef("current_period_end"),
            created_at__gt=now - RENEWAL_RETRY_EVERY,
        )
    )
    retry = (
        Q(status=AccountStatus.PAST_DUE, provider__in=SAVED_METHOD_PROVIDERS)
        & ~Q(provider_payment_method_id="")
        & ~Q(tried_lately)
    )
    return ended | unreported | Q(status=AccountStatus.PAST_DUE, past_due_since__lte=now - grace) | retry


@metrics.BILLING_TICK.time()
def run_billing_tick(*, now: datetime | None = None, reconcile: bool = True) -> TickResult:
    """Close ended periods (renew, cancel, downgrade, past_due, expired), then (unless `reconcile` is
    False: the `billing.reconcile_pending_payments` task does it) reconcile payments left pending at a
    provider for more than PENDING_RECONCILE_AFTER.

    One account per transaction, taken with SKIP LOCKED in primary-key order, so two runs at
    once share the work; running it again right after finds nothing due, so it is safe every
    minute. A renewal charge is written as a pending Payment first and sent to the provider after
    that transaction commits (its idempotence key makes a second run's charge the same payment).
    """
    result = TickResult()
    seen: list[int] = []
    while True:
        moment = now or timezone.now()
        with billing_transaction():
            account = (
                BillingAccount.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("plan", "scheduled_plan", "organization")
                .filter(_due_filter(moment))
                .exclude(pk__in=seen)
                .order_by("pk")
                .first()
            )
            if account is None:
                break
            seen.append(account.pk)
            action = _advance(account, moment)
        if isinstance(action, Renewal):
            action = _charge_renewal(action, moment)
        elif isinstance(action, ProviderCheck):
            action = _check_at_provider(action)
        result.count(action)
    for payment_pk in stale_pending_payments(now or timezone.now()) if reconcile else []:
        result.count(reconcile_payment(payment_pk=payment_pk))
    return result


@dataclass(frozen=True)
class Renewal:
    """A renewal to charge at the provider once the transaction that wrote its pending Payment commits."""

    account_pk: int
    payment_pk: int
    period: tuple[datetime, datetime]


@dataclass(frozen=True)
class ProviderCheck:
    """A self-renewing subscription whose renewal was not reported: ask its provider, outside the transaction."""

    account_pk: int
    provider: str
    subscription_id: str


def _advance(account: BillingAccount, now: datetime) -> str | Renewal | ProviderCheck:
    before = snapshot(account)
    if account.status == AccountStatus.PAST_DUE:
        if account.past_due_since <= now - timedelta(days=settings.BILLING_GRACE_DAYS):
            return _end(account, AccountStatus.EXPIRED, before)
        return _retry_renewal(account, now)
    if account.cancel_at_period_end:
        return _end(account, AccountStatus.CANCELED, before)
    if renews_at_provider(account):
        # The provider renews it (and applies a scheduled downgrade) by itself; it stays live until the
        # provider reports otherwise, so only ask what became of the renewal.
        return ProviderCheck(account.pk, account.provider, account.provider_subscription_id)
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


def _renew(account: BillingAccount, now: datetime, before: dict) -> str | Renewal:
    plan = account.plan
    start = account.current_period_end
    end = add_interval(start, plan.interval)
    price = next((p for p in plan.prices.all() if p.currency == account.currency), None)
    if account.provider == PaymentProvider.MANUAL or not account.provider:
        # Manual renewals are free plans, or (development, demos) paid plans recorded at their price;
        # a plan without a price is neither, so it ends.
        if plan_is_free(plan) or (PaymentProvider.MANUAL in enabled_providers() and price is not None):
            start_period(account, plan=plan, start=start, end=end, provider=PaymentProvider.MANUAL)
            manual_payment(account, plan=plan, amount=price.amount if price else Decimal("0"))
            audit(account, "subscription.renewed", before, actor_label=TICK_ACTOR)
            return "renewed"
        return _end(account, AccountStatus.EXPIRED, before)
    backend = get_backend(account.provider)
    if backend is None or not backend.charges_saved_methods or price is None or not account.provider_payment_method_id:
        return _past_due(account, now, before)
    return _renewal_charge(account, price=price, period=(start, end), attempt="")


def _retry_renewal(account: BillingAccount, now: datetime) -> str | Renewal:
    """A daily retry of a failed saved-method renewal during the grace period (same period, new attempt)."""
    plan = account.plan
    price = next((p for p in plan.prices.all() if p.currency == account.currency), None)
    if price is None or not account.provider_payment_method_id:
        return "past_due"
    start = account.current_period_end
    day = (now - account.past_due_since) // RENEWAL_RETRY_EVERY
    return _renewal_charge(account, price=price, period=(start, add_interval(start, plan.interval)), attempt=f"-r{day}")


def _renewal_charge(
    account: BillingAccount, *, price, period: tuple[datetime, datetime], attempt: str
) -> str | Renewal:
    """The pending Payment of one renewal attempt, committed before the provider is charged."""
    plan = account.plan
    start, end = period
    # The idempotence key is the period (and the retry's day), so a repeated or concurrent charge is one payment.
    payment, created = Payment.objects.get_or_create(
        provider=account.provider,
        external_id=f"{RENEWAL_PREFIX}{account.pk}-{plan.code}-{start.isoformat()}{attempt}",
        defaults={
            "account": account,
            "amount": price.amount,
            "currency": price.currency,
            "plan": plan,
            "period_start": start,
            "period_end": end,
        },
    )
    in_flight = timedelta(seconds=2 * settings.PROVIDER_HTTP_TIMEOUT_SECONDS)
    if not created and payment.status == PaymentStatus.PENDING and payment.updated_at > timezone.now() - in_flight:
        # Another run is charging it right now; a run that stopped mid-way is taken over after that.
        return "in_flight"
    Payment.objects.filter(pk=payment.pk).update(updated_at=timezone.now())
    return Renewal(account_pk=account.pk, payment_pk=payment.pk, period=(start, end))


def _past_due(account: BillingAccount, now: datetime, before: dict) -> str:
    mark_past_due(account, now)
    account.save(update_fields=["status", "past_due_since", "updated_at"])
    audit(account, "subscription.past_due", before, actor_label=TICK_ACTOR)
    return "past_due"


def _charge_renewal(renewal: Renewal, now: datetime) -> str:
    """Charge the saved method (YooKassa) outside any transaction, then apply the answer in a short one.

    Declined, failed or not confirmed at once: past_due (a later notification or reconciliation
    still applies a payment that goes through)."""
    payment = Payment.objects.select_related("account__organization", "plan").get(pk=renewal.payment_pk)
    account = payment.account
    price = payment.plan.prices.filter(currency=payment.currency).first()
    report = None
    if payment.status == PaymentStatus.PENDING and price is not None:
        try:
            report = get_backend(payment.provider).charge_saved_method(
                account=account,
                plan=payment.plan,
                price=price,
                payment=payment,
                idempotence_key=payment.external_id,
                period=renewal.period,
            )
        except DomainError:
            logger.warning("renewal charge failed for account %s", account.pk, exc_info=True)
    with billing_transaction():
        account = lock_account_by_pk(renewal.account_pk)
        if report is not None:
            try:
                with transaction.atomic():
                    apply_payment_report(report, actor_label=TICK_ACTOR)
            except EventRefused as refusal:
                logger.error("renewal charge for account %s refused: %s", account.pk, refusal.detail)
        account.refresh_from_db()
        if account.current_period_end != renewal.period[0]:
            return "renewed" if account.current_period_end >= renewal.period[1] else "skipped"
        if account.status == AccountStatus.PAST_DUE:
            return "retry_failed"
        if account.status not in CURRENT_STATUSES:
            return "skipped"
        return _past_due(account, now, snapshot(account))


def _check_at_provider(check: ProviderCheck) -> str:
    """Ask the provider what became of a renewal it did not report (outside any transaction), then apply
    its answer as if it were its newest event: renewed (the period moves on), past_due, canceled — or
    still unrenewed, which changes nothing and is asked again after PROVIDER_RECHECK_EVERY."""
    asked_at = timezone.now()
    try:
        report = get_backend(check.provider).fetch_subscription(check.subscription_id)
    except ProviderError:
        logger.warning("could not ask %s about subscription %s", check.provider, check.subscription_id, exc_info=True)
        return "provider_check_failed"
    with billing_transaction():
        account = lock_account_by_pk(check.account_pk)
        if (account.provider, account.provider_subscription_id) != (check.provider, check.subscription_id):
            return "skipped"
        try:
            with transaction.atomic():
                apply_provider_report(replace(report, occurred_at=asked_at), actor_label=TICK_ACTOR)
        except EventRefused as refusal:
            logger.error("%s subscription %s refused: %s", check.provider, check.subscription_id, refusal.detail)
            BillingAccount.objects.filter(pk=account.pk).update(provider_event_at=asked_at)
            return "provider_check_refused"
    return "provider_checked"


def stale_pending_payments(now: datetime) -> list[int]:
    """Payments still pending PENDING_RECONCILE_AFTER after they were written, at providers we can ask."""
    providers = [name for name, backend in BACKENDS.items() if backend.can_fetch_payments]
    stale = Payment.objects.filter(
        status=PaymentStatus.PENDING, provider__in=providers, updated_at__lte=now - PENDING_RECONCILE_AFTER
    )
    return list(stale.order_by("pk").values_list("pk", flat=True)[:RECONCILE_BATCH])


def reconcile_payment(*, payment_pk: int) -> str:
    """Ask the provider what became of a pending payment (outside any transaction) and apply it.

    A payment that never got the provider's id (the process stopped between our intent and the
    provider's answer), or that the provider says does not exist, failed."""
    payment = Payment.objects.get(pk=payment_pk)
    report = None
    if not is_placeholder(payment.external_id):
        try:
            report = get_backend(payment.provider).fetch_payment(payment.external_id)
        except PaymentNotFound:
            report = None
        except ProviderError:
            logger.warning("could not reconcile %s payment %s", payment.provider, payment.external_id, exc_info=True)
            return "reconcile_failed"
    with billing_transaction():
        if report is None:
            record_failed_payment(payment=payment, status=PaymentStatus.FAILED, actor_label=TICK_ACTOR)
            return "reconciled"
        try:
            with transaction.atomic():
                outcome = apply_payment_report(report, actor_label=TICK_ACTOR)
        except EventRefused as refusal:
            logger.error("reconciling %s payment %s refused: %s", payment.provider, payment.pk, refusal.detail)
            Payment.objects.filter(pk=payment.pk).update(updated_at=timezone.now())
            return "reconcile_refused"
        if outcome == WebhookOutcome.IGNORED:
            # Still pending at the provider: ask again in PENDING_RECONCILE_AFTER.
            Payment.objects.filter(pk=payment.pk).update(updated_at=timezone.now())
            return "still_pending"
        return "reconciled"
