"""What each event means as a notice: its kind, who hears it, its key (sent once per key and user) and
what its templates show. Called by the receivers of billing's and metering's signals (in the transaction
of the change) and by the periodic tasks."""

import math
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from billing.models import AccountStatus, BillingAccount, Invoice, Payment
from billing.selectors import grace_ends_at
from notifications import selectors
from notifications.models import Kind
from notifications.services import notify

TRIAL_NOTICE_DAYS = 3
ENDED_ACTIONS = ("subscription.canceled", "subscription.expired")


def _plan(account: BillingAccount) -> dict:
    plan = account.plan
    return {"plan": plan.name if plan else "", "plan_ru": plan.name_ru if plan else ""}


def quota_crossed(
    *,
    account_id: int,
    organization_id: int,
    metric: str,
    percent: int,
    limit: int,
    used: int,
    period_start: datetime,
    period_end: datetime,
) -> list[int]:
    kind = Kind.QUOTA_REACHED if percent >= 100 else Kind.QUOTA_WARNING
    return notify(
        kind=kind,
        users=selectors.billing_people(organization_id=organization_id),
        key=f"{kind.value}:{account_id}:{period_start.isoformat()}:{metric}",
        context={
            "metric": metric,
            "limit": limit,
            "used": used,
            "percent": percent,
            "resets_at": period_end.isoformat(),
        },
        organization_id=organization_id,
    )


def payment_received(*, payment: Payment, invoice: Invoice) -> list[int]:
    account = invoice.account
    return notify(
        kind=Kind.PAYMENT_RECEIPT,
        users=selectors.billing_people(organization_id=account.organization_id),
        key=f"{Kind.PAYMENT_RECEIPT.value}:{invoice.pk}",
        context={
            "invoice_id": invoice.pk,
            "number": invoice.number,
            "amount": str(invoice.amount),
            "currency": invoice.currency,
            "plan": invoice.plan_name,
            "plan_ru": invoice.plan_name_ru,
            "period_start_at": invoice.period_start.isoformat() if invoice.period_start else None,
            "period_end_at": invoice.period_end.isoformat() if invoice.period_end else None,
        },
        organization_id=account.organization_id,
    )


def subscription_changed(*, account: BillingAccount, action: str, before: dict) -> list[int]:
    """A failed renewal (past_due) with the grace days left, or the end of a subscription or trial."""
    if action == "subscription.past_due" and account.status == AccountStatus.PAST_DUE:
        until = grace_ends_at(account)
        days_left = max(0, math.ceil((until - timezone.now()).total_seconds() / 86400))
        return notify(
            kind=Kind.RENEWAL_FAILED,
            users=selectors.billing_people(organization_id=account.organization_id),
            key=f"{Kind.RENEWAL_FAILED.value}:{account.pk}:{account.past_due_since.isoformat()}",
            context={**_plan(account), "until_at": until.isoformat(), "days_left": days_left},
            organization_id=account.organization_id,
        )
    if action in ENDED_ACTIONS:
        return notify(
            kind=Kind.SUBSCRIPTION_ENDED,
            users=selectors.billing_people(organization_id=account.organization_id),
            key=f"{Kind.SUBSCRIPTION_ENDED.value}:{account.pk}:{before.get('period_end')}",
            context={**_plan(account), "status": account.status, "was_trial": before.get("status") == "trialing"},
            organization_id=account.organization_id,
        )
    return []


def announce_trials_ending(*, now: datetime | None = None) -> int:
    """Tell each account whose trial ends within TRIAL_NOTICE_DAYS, once per trial; returns notices made."""
    now = now or timezone.now()
    made = 0
    for account in selectors.trials_ending(now=now, within=timedelta(days=TRIAL_NOTICE_DAYS)):
        made += len(
            notify(
                kind=Kind.TRIAL_ENDING,
                users=selectors.billing_people(organization_id=account.organization_id),
                key=f"{Kind.TRIAL_ENDING.value}:{account.pk}:{account.trial_end.isoformat()}",
                context={**_plan(account), "trial_end_at": account.trial_end.isoformat()},
                organization_id=account.organization_id,
            )
        )
    return made


def send_daily_summary(*, day: date | None = None) -> int:
    """Yesterday's (or `day`'s) revenue, LLM cost, margin and errors to the opted-in operators, once a day."""
    day = day or timezone.localdate() - timedelta(days=1)
    figures = selectors.day_figures(day=day)
    usd_revenue = next((row["amount"] for row in figures["revenue"] if row["currency"] == "USD"), Decimal(0))
    context = {
        "day": day.isoformat(),
        "revenue": [{"currency": row["currency"], "amount": str(row["amount"])} for row in figures["revenue"]],
        "cost_usd": str(figures["cost_usd"].quantize(Decimal("0.01"))),
        "margin_usd": str((usd_revenue - figures["cost_usd"]).quantize(Decimal("0.01"))),
        "calls": figures["calls"],
        "errors": figures["errors"],
        "error_percent": round(100 * figures["errors"] / figures["calls"], 1) if figures["calls"] else 0,
    }
    return len(
        notify(
            kind=Kind.DAILY_SUMMARY,
            users=selectors.summary_readers(),
            key=f"{Kind.DAILY_SUMMARY.value}:{day.isoformat()}",
            context=context,
        )
    )
