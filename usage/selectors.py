"""Reads for usage: what an organization used this billing period against its limits."""

from billing.models import BillingAccount
from policy.services import limits_for, quota_period
from usage.models import PeriodCounter

METRICS = ("requests", "tokens_input", "tokens_output")


def usage_summary(*, organization) -> list[dict]:
    """Per metric: used, limit (None = unlimited), period_start, period_end of the current period.

    Empty when the organization has no plan (nothing to measure against)."""
    account = BillingAccount.objects.select_related("plan").filter(organization=organization).first()
    if account is None or account.plan is None or None in (account.current_period_start, account.current_period_end):
        return []
    limits = limits_for(account=account).as_dict()
    period_start, period_end = quota_period(account=account)
    counter = (
        PeriodCounter.objects.filter(account=account, period_start=period_start).values(*METRICS).first()
    ) or dict.fromkeys(METRICS, 0)
    return [
        {
            "metric": metric,
            "used": counter[metric],
            "limit": limits[metric],
            "period_start": period_start,
            "period_end": period_end,
        }
        for metric in METRICS
    ]
