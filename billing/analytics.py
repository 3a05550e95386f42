"""Reads for the operator's analytics: revenue, MRR, subscriptions and their movements, for all organizations.

Periods are UTC days, both ends included. Amounts are in one currency (amounts in different currencies are
never added). Revenue is counted two ways: *received* (a succeeded payment on the day it was made) and
*allocated* (a payment for a period spread over that period pro rata by time, so a month paid on the 1st
counts a thirtieth on each of its days): margins compare allocated revenue with what the calls cost.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate

from billing.models import AccountStatus, BillingAccount, Payment, PaymentStatus, PlanPrice
from tenants.models import AuditEvent

#: Seconds in an average month, the unit of MRR.
MONTH_SECONDS = Decimal("365.25") / 12 * 86400
NEW = "subscription.activated"
UPGRADED = "subscription.upgraded"
DOWNGRADED = "subscription.downgraded"
CHURNED = ("subscription.canceled", "subscription.expired")
TRIAL_STARTED = "subscription.trial_started"
MOVEMENTS = (NEW, UPGRADED, DOWNGRADED, *CHURNED)


@dataclass(frozen=True)
class Window:
    """UTC days `start`..`end`, both included."""

    start: date
    end: date

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC)

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def previous(self) -> "Window":
        length = self.end - self.start + timedelta(days=1)
        return Window(self.start - length, self.start - timedelta(days=1))


def currencies() -> list[str]:
    """The currencies plans are priced in or payments were made in, USD first."""
    found = set(PlanPrice.objects.order_by().values_list("currency", flat=True).distinct())
    found |= set(Payment.objects.order_by().values_list("currency", flat=True).distinct())
    return sorted(found | {"USD"}, key=lambda code: (code != "USD", code))


def _paid(currency: str):
    return Payment.objects.filter(status=PaymentStatus.SUCCEEDED, currency=currency)


def _covered(payment: dict) -> tuple[datetime, datetime]:
    """The time a payment pays for; a payment without a period counts on the instant it was made."""
    if payment["period_start"] and payment["period_end"] and payment["period_end"] > payment["period_start"]:
        return payment["period_start"], payment["period_end"]
    return payment["created_at"], payment["created_at"]


def allocated_share(payment: dict, *, since: datetime, until: datetime) -> Decimal:
    """The part of a payment's amount that falls in [since, until): its amount × overlap / its period."""
    start, end = _covered(payment)
    if start == end:
        return payment["amount"] if since <= start < until else Decimal(0)
    overlap = (min(end, until) - max(start, since)).total_seconds()
    if overlap <= 0:
        return Decimal(0)
    return payment["amount"] * Decimal(overlap) / Decimal((end - start).total_seconds())


def _overlapping(window: Window, currency: str) -> list[dict]:
    in_window = Q(period_start__lt=window.until, period_end__gt=window.since)
    without_period = (Q(period_start__isnull=True) | Q(period_end__isnull=True)) & Q(
        created_at__gte=window.since, created_at__lt=window.until
    )
    return list(
        _paid(currency)
        .filter(in_window | without_period)
        .values("account__organization_id", "plan_id", "amount", "period_start", "period_end", "created_at")
    )


def allocated_revenue(window: Window, *, currency: str) -> dict[int, Decimal]:
    """Organization id → the revenue of `window` in `currency`, payments spread over their periods. One query."""
    revenue: dict[int, Decimal] = defaultdict(Decimal)
    for payment in _overlapping(window, currency):
        share = allocated_share(payment, since=window.since, until=window.until)
        if share:
            revenue[payment["account__organization_id"]] += share
    return dict(revenue)


def mrr_at(moments: list[datetime], *, currency: str) -> list[Decimal]:
    """Monthly recurring revenue at each moment: every paid period running then, its amount per month
    (a year's price / 12, a week's × 4.35). One query."""
    payments = _paid(currency).filter(period_start__lte=max(moments), period_end__gt=min(moments))
    rows = list(payments.values("amount", "period_start", "period_end"))
    totals = []
    for moment in moments:
        total = Decimal(0)
        for row in rows:
            if row["period_start"] <= moment < row["period_end"]:
                total += (
                    row["amount"] * MONTH_SECONDS / Decimal((row["period_end"] - row["period_start"]).total_seconds())
                )
        totals.append(total)
    return totals


def revenue_per_day(window: Window, *, currency: str) -> dict[date, dict]:
    """Day → received revenue and number of payments (succeeded payments by the day they were made)."""
    rows = (
        _paid(currency)
        .filter(created_at__gte=window.since, created_at__lt=window.until)
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day")
        .annotate(total=Sum("amount"), payments=Count("id"))
    )
    return {row["day"]: {"revenue": row["total"], "payments": row["payments"]} for row in rows}


def subscriptions_by_plan_and_status() -> list[dict]:
    """Accounts now, per plan and status (accounts that never subscribed left out)."""
    return list(
        BillingAccount.objects.exclude(status=AccountStatus.NONE)
        .values("plan__code", "plan__name", "status")
        .annotate(accounts=Count("id"))
        .order_by("plan__code", "status")
    )


def current_plans(organization_ids) -> dict[int, tuple[str, str]]:
    """Organization id → (plan code, plan name) of its account now ("", "no plan" without one)."""
    rows = BillingAccount.objects.filter(organization_id__in=list(organization_ids)).values_list(
        "organization_id", "plan__code", "plan__name"
    )
    return {org: (code or "", name or "no plan") for org, code, name in rows}


def movements(window: Window) -> dict[str, int]:
    """Organizations that started paying (new), upgraded, downgraded and churned (canceled or expired) in the window,
    each counted once per kind, from the audit log. One query."""
    rows = (
        AuditEvent.objects.filter(action__in=MOVEMENTS, created_at__gte=window.since, created_at__lt=window.until)
        .values("action")
        .annotate(organizations=Count("organization", distinct=True))
    )
    counts = {row["action"]: row["organizations"] for row in rows}
    return {
        "new": counts.get(NEW, 0),
        "upgraded": counts.get(UPGRADED, 0),
        "downgraded": counts.get(DOWNGRADED, 0),
        "churned": sum(counts.get(action, 0) for action in CHURNED),
    }


def trial_conversion(window: Window) -> dict:
    """Of the organizations whose trial started in the window, how many have paid since (activated or upgraded)."""
    started = AuditEvent.objects.filter(
        action=TRIAL_STARTED, created_at__gte=window.since, created_at__lt=window.until
    ).values("organization_id")
    row = AuditEvent.objects.filter(organization_id__in=started).aggregate(
        trials=Count("organization", distinct=True, filter=Q(action=TRIAL_STARTED)),
        converted=Count("organization", distinct=True, filter=Q(action__in=(NEW, UPGRADED))),
    )
    trials, converted = row["trials"], row["converted"]
    return {"trials": trials, "converted": converted, "rate": (converted / trials) if trials else None}
