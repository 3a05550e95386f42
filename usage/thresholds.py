"""Quota thresholds: the moment a call takes a period counter to 80 % or 100 % of its limit.

`threshold_crossed` ("usage.threshold" events) is sent by the call whose reservation crossed the line:
the reservation's conditional UPDATE returns the counter after it, the counter before is that minus what
the call added, so no extra query is made and, the database serializing the UPDATEs of one counter,
exactly one call crosses each threshold of each metric per period. A call refused because the quota is
used up reports 100 % too (a token quota is seldom met exactly). The organization's webhook endpoints hear
it as `usage.threshold`, once per account, period, metric and threshold. Receivers get it in the caller's
transaction, if any, and must defer network calls until commit (background.queue.enqueue_on_commit).
"""

import math
from datetime import datetime

from django.dispatch import Signal

from webhooks.models import EventType
from webhooks.services import emit

THRESHOLD_PERCENTS = (80, 100)

#: Arguments: account_id, organization_id, metric ("requests", "tokens_input", "tokens_output"),
#: percent (80 or 100), limit, used (the counter after the call), period_start, period_end.
threshold_crossed = Signal()


def crossed(*, before: int, after: int, limit: int | None) -> list[int]:
    """The thresholds (percents of `limit`) that lie in (before, after]."""
    if not limit:
        return []
    return [percent for percent in THRESHOLD_PERCENTS if before < math.ceil(limit * percent / 100) <= after]


def report_reservation(
    *, account, period_start: datetime, period_end: datetime, limits: dict, added: dict, after: dict
) -> None:
    """Send `threshold_crossed` for the highest threshold of each metric a reservation of `added` crossed
    (usually none: a call that jumps from below 80 % to 100 % reports 100 % only)."""
    for metric, limit in limits.items():
        percents = crossed(before=after[metric] - added[metric], after=after[metric], limit=limit)
        if percents:
            _send(account, metric, percents[-1], limit, after[metric], period_start, period_end)


def report_used_up(*, account, metric: str, limit: int, used: int, period_start: datetime, period_end: datetime):
    """A call was refused: the `metric` quota of this period is used up."""
    _send(account, metric, 100, limit, used, period_start, period_end)


def _send(account, metric, percent, limit, used, period_start, period_end) -> None:
    threshold_crossed.send(
        sender="usage",
        account_id=account.pk,
        organization_id=account.organization_id,
        metric=metric,
        percent=percent,
        limit=limit,
        used=used,
        period_start=period_start,
        period_end=period_end,
    )
    emit(
        organization=account.organization_id,
        event_type=EventType.USAGE_THRESHOLD,
        payload={
            "metric": metric,
            "percent": percent,
            "limit": limit,
            "used": used,
            "period_start": period_start.isoformat(),
            "period_end": period_end.isoformat(),
        },
        once_key=f"usage.threshold:{account.pk}:{period_start.isoformat()}:{metric}:{percent}",
    )
