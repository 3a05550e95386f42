"""Reads for usage: what an organization used this billing period against its limits."""

from billing.models import BillingAccount
from policy.services import limits_for
from usage.models import PeriodCounter

METRICS = ("requests", "tokens_input", "tokens_output")


def usage_summary(*, organization) -> list[dict]:
    """Per metric: used, limit (None = unlimited), period_start, period_end of the current period.

    Empty when the organization has no plan (nothing to measure against)."""
    account = BillingAccount.objects.select_related("plan").filter(organization=organization).first()
    if account is None or account.plan is None or account.current_period_start is None:
        return []
    limits = limits_for(account=account).as_dict()
    counter = (
        PeriodCounter.objects.filter(account=account, period_start=account.current_period_start)
        .values(*METRICS)
        .first()
    ) or dict.fromkeys(METRICS, 0)
    return [
        {
            "metric": metric,
            "used": counter[metric],
            "limit": limits[metric],
            "period_start": account.current_period_start,
            "period_end": account.current_period_end,
        }
        for metric in METRICS
    ]
