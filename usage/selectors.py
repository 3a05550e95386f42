"""Reads for usage: what a billing account used in a quota period."""

from usage.models import PeriodCounter

METRICS = ("requests", "tokens_input", "tokens_output")


def period_usage(*, account, period_start) -> dict[str, int]:
    """Requests and tokens `account` used in the quota period that starts at `period_start` (zeros if none)."""
    used = PeriodCounter.objects.filter(account=account, period_start=period_start).values(*METRICS).first()
    return used or dict.fromkeys(METRICS, 0)
