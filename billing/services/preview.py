"""What a billing change would do, computed before it is made (README "Billing changes").

Pure computation over the account, its plans and its payments: nothing here writes. The services that
make a change compute the same preview from the locked account and compare it with the confirmation
the customer sent, so what was shown is what happens.

- Time is counted in whole days: paid days left are the whole days before the period ends (the day in
  progress counts as used); trial days left include the day in progress (as the dashboard shows them).
- The unused paid value of the current period: for each succeeded payment for the current plan inside
  it, amount × unused days ÷ the days it paid for; summed, then rounded half-up to the currency's
  minor unit. Trials, grants and free plans have none.
- Subscribing during a running trial keeps its remaining days: the paid period starts when the trial
  would end — except at a provider that bills by itself from the day it is paid (Paddle).
- An upgrade starts a new period now and credits the unused paid value against the new price (due =
  price − credit, never below zero) where the provider can charge that amount (manual, YooKassa);
  Paddle charges its full price, and the unused value is listed as lost.
- A downgrade costs nothing now and starts when the current period ends; what the new plan lacks
  (agents, features, channels, quotas, seats) is listed as lost. Undoing it changes nothing else.
- Cancelling now ends access now: the unused days and their value are lost; nothing is refunded.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import models

from billing.errors import BillingError, BillingErrorCode
from billing.models import AccountStatus, BillingAccount, Payment, PaymentStatus, Plan, PlanPrice
from billing.periods import add_interval
from billing.providers import get_backend
from billing.services.accounts import CURRENT_STATUSES, is_current
from billing.services.pricing import is_downgrade

DAY = timedelta(days=1)
ZERO = Decimal("0")
#: ISO 4217 currencies without a minor unit; every other one has two decimals (cents, kopecks).
ZERO_DECIMAL_CURRENCIES = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
)
QUOTA_FIELDS = (
    ("requests", "quota_requests"),
    ("tokens_input", "quota_tokens_input"),
    ("tokens_output", "quota_tokens_output"),
    ("members", "max_members"),
)


class BillingChange(models.TextChoices):
    SUBSCRIBE = "subscribe", "Subscribe"
    UPGRADE = "upgrade", "Upgrade"
    DOWNGRADE = "downgrade", "Downgrade at the period end"
    UNDO_DOWNGRADE = "undo_downgrade", "Undo the scheduled downgrade"
    CANCEL_NOW = "cancel_now", "Cancel now"
    CANCEL_AT_PERIOD_END = "cancel_at_period_end", "Cancel at the period end"


class PreviewNote(models.TextChoices):
    CHECKOUT = "checkout", "Paid at the provider; the change applies when the payment is confirmed"
    CREDIT_NOT_APPLIED = "credit_not_applied", "The provider charges its full price; unused paid time is lost"
    TRIAL_NOT_KEPT = "trial_not_kept", "The provider bills from the day it is paid; the remaining trial ends"
    OTHER_CURRENCY = "other_currency", "The current period was paid in another currency; it is not credited"
    NO_REFUND = "no_refund", "Nothing is refunded"


@dataclass(frozen=True)
class QuotaDrop:
    """A quota the new plan makes smaller (None = unlimited)."""

    metric: str
    current: int | None
    new: int | None


@dataclass(frozen=True)
class Lost:
    """What the change takes away: unused paid days and their value, and what the new plan lacks."""

    days: int = 0
    value: Decimal = ZERO
    currency: str = ""
    agents: tuple = ()
    features: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    quotas: tuple[QuotaDrop, ...] = ()


@dataclass(frozen=True)
class Preview:
    """One change as the customer confirms it. `starts_at` is when the new terms begin (for cancel_now:
    when access ends); `period_end` is the end of the period they buy (cancel_now: now)."""

    organization_id: int
    change: str
    plan: Plan | None
    current_plan: Plan | None
    provider: str
    currency: str
    price: Decimal
    credit: Decimal
    amount_due: Decimal
    starts_at: datetime | None
    period_end: datetime | None
    trial_days_kept: int
    lost: Lost
    notes: tuple[str, ...]
    state: tuple = field(repr=False, default=())

    def outcome(self) -> dict:
        """What the confirmation binds: the amounts, what is lost and the account state they came from
        (instants that move with the clock, like "now + one month", are left out)."""
        return {
            "change": self.change,
            "currency": self.currency,
            "price": str(self.price),
            "credit": str(self.credit),
            "due": str(self.amount_due),
            "lost_days": self.lost.days,
            "lost_value": str(self.lost.value),
            "trial_days_kept": self.trial_days_kept,
            "state": list(self.state),
        }


def minor_unit(currency: str) -> Decimal:
    return Decimal("1") if currency.upper() in ZERO_DECIMAL_CURRENCIES else Decimal("0.01")


def to_minor_units(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


def days_left(end: datetime | None, now: datetime) -> int:
    """Whole days before `end` (paid time: the day in progress counts as used)."""
    return max(0, (end - now) // DAY) if end else 0


def trial_days_left(account: BillingAccount, now: datetime) -> int:
    """Days of the trial left, the day in progress included (as the dashboard counts them)."""
    return max(0, -((now - account.trial_end) // DAY)) if account.trial_end else 0


def _days_paid(payment: Payment) -> int:
    return max(1, round((payment.period_end - payment.period_start) / DAY))


def unused_paid_value(account: BillingAccount, now: datetime) -> Decimal:
    """The value of the paid days of the current period not used yet, in the account's currency."""
    if not is_current(account, now) or account.plan_id is None:
        return ZERO
    payments = Payment.objects.filter(
        account=account,
        status=PaymentStatus.SUCCEEDED,
        plan_id=account.plan_id,
        currency=account.currency,
        amount__gt=0,
        period_start__gte=account.current_period_start,
        period_end__gt=now,
        period_end__lte=account.current_period_end,
    ).only("amount", "period_start", "period_end")
    total = sum(
        (payment.amount * min(days_left(payment.period_end, now), _days_paid(payment)) / _days_paid(payment))
        for payment in payments
    )
    return to_minor_units(Decimal(total), account.currency)


def account_state(account: BillingAccount) -> tuple:
    """The fields whose change makes a confirmation stale."""
    end = account.current_period_end.isoformat() if account.current_period_end else None
    return (account.status, account.plan_id, end, account.scheduled_plan_id, account.cancel_at_period_end)


def plan_change(account: BillingAccount, *, plan: Plan, currency: str, now: datetime) -> str:
    """What subscribing to `plan` does to the account: subscribe (a new period: first, from a trial,
    after a lapse), upgrade, downgrade (at the period end) or undo_downgrade (back to the current plan)."""
    if is_current(account, now) and account.status == AccountStatus.ACTIVE:
        if account.plan_id == plan.pk:
            if account.scheduled_plan_id is None:
                raise BillingError(BillingErrorCode.ALREADY_SUBSCRIBED, f"Already on {plan.code}.", "plan")
            return BillingChange.UNDO_DOWNGRADE
        if is_downgrade(account.plan, plan, currency):
            return BillingChange.DOWNGRADE
        return BillingChange.UPGRADE
    return BillingChange.SUBSCRIBE


def keeps_trial(account: BillingAccount, *, provider: str, now: datetime) -> bool:
    """Whether a payment now starts its period at the trial's end (the remaining trial days are kept)."""
    backend = get_backend(provider)
    return bool(
        account.status == AccountStatus.TRIALING
        and is_current(account, now)
        and account.trial_end
        and account.trial_end > now
        and not (backend and backend.renews_itself)
    )


def lost_entitlements(current: Plan | None, new: Plan) -> dict:
    """The agents, features, channels and quotas of `current` that `new` lacks."""
    if current is None or current.pk == new.pk:
        return {}
    new_agents = {agent.pk for agent in new.agents.all()}
    quotas = []
    for metric, name in QUOTA_FIELDS:
        before, after = getattr(current, name), getattr(new, name)
        if before != after and (after is not None and (before is None or after < before)):
            quotas.append(QuotaDrop(metric, before, after))
    return {
        "agents": tuple(agent for agent in current.agents.order_by("name") if agent.pk not in new_agents),
        "features": tuple(feature for feature in current.features if feature not in new.features),
        "channels": tuple(channel for channel in current.channels if channel not in new.channels),
        "quotas": tuple(quotas),
    }


def preview_subscription(
    account: BillingAccount, *, plan: Plan, provider: str, price: PlanPrice | None, now: datetime
) -> Preview:
    """The preview of subscribing `account` to `plan` at `price` through `provider` at `now`."""
    currency = price.currency if price else account.currency
    amount = price.amount if price else ZERO
    change = plan_change(account, plan=plan, currency=currency, now=now)
    current = account.plan if account.plan_id and account.status in CURRENT_STATUSES else None
    backend = get_backend(provider)
    notes = [PreviewNote.CHECKOUT] if backend.needs_checkout else []
    common = {
        "organization_id": account.organization_id,
        "change": change,
        "plan": plan,
        "current_plan": current,
        "provider": provider,
        "currency": currency,
        "state": account_state(account),
    }
    if change in (BillingChange.DOWNGRADE, BillingChange.UNDO_DOWNGRADE):
        start = account.current_period_end
        undo = change == BillingChange.UNDO_DOWNGRADE
        return Preview(
            **common,
            notes=(),
            price=amount,
            credit=ZERO,
            amount_due=ZERO,
            starts_at=start,
            period_end=add_interval(start, plan.interval),
            trial_days_kept=0,
            lost=Lost() if undo else Lost(**lost_entitlements(current, plan)),
        )
    lost = lost_entitlements(current, plan)
    credit = ZERO
    lost_days, lost_value = 0, ZERO
    if change == BillingChange.UPGRADE:
        unused = unused_paid_value(account, now)
        if backend.renews_itself:
            notes.append(PreviewNote.CREDIT_NOT_APPLIED)
            lost_days, lost_value = days_left(account.current_period_end, now), unused
        elif account.currency != currency and unused:
            notes.append(PreviewNote.OTHER_CURRENCY)
            lost_days, lost_value = days_left(account.current_period_end, now), unused
        else:
            credit = min(unused, amount)
    trial_kept = keeps_trial(account, provider=provider, now=now)
    if account.status == AccountStatus.TRIALING and is_current(account, now) and not trial_kept:
        notes.append(PreviewNote.TRIAL_NOT_KEPT)
        lost_days = trial_days_left(account, now)
    start = account.trial_end if trial_kept else now
    return Preview(
        **common,
        price=amount,
        credit=credit,
        amount_due=amount - credit,
        starts_at=start,
        period_end=add_interval(start, plan.interval),
        trial_days_kept=trial_days_left(account, now) if trial_kept else 0,
        lost=Lost(days=lost_days, value=lost_value, currency=account.currency if lost_value else "", **lost),
        notes=tuple(notes),
    )


def preview_cancellation(account: BillingAccount, *, immediate: bool, now: datetime) -> Preview:
    """The preview of cancelling now (`immediate`) or at the period end."""
    if account.status not in (*CURRENT_STATUSES, AccountStatus.PAST_DUE):
        raise BillingError(BillingErrorCode.NOT_SUBSCRIBED, "There is no subscription to cancel.")
    immediate = immediate or account.status == AccountStatus.PAST_DUE
    lost = Lost()
    if immediate:
        value = unused_paid_value(account, now)
        lost = Lost(
            days=days_left(account.current_period_end, now), value=value, currency=account.currency if value else ""
        )
    return Preview(
        organization_id=account.organization_id,
        change=BillingChange.CANCEL_NOW if immediate else BillingChange.CANCEL_AT_PERIOD_END,
        plan=None,
        current_plan=account.plan,
        provider=account.provider,
        currency=account.currency,
        price=ZERO,
        credit=ZERO,
        amount_due=ZERO,
        starts_at=now if immediate else account.current_period_end,
        period_end=now if immediate else account.current_period_end,
        trial_days_kept=0,
        lost=lost,
        notes=(PreviewNote.NO_REFUND,) if immediate else (),
        state=account_state(account),
    )
