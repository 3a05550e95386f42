"""Billing period arithmetic: days and weeks are fixed lengths, months and years follow the calendar."""

import calendar
from datetime import datetime, timedelta

from billing.models import Interval


def add_interval(start: datetime, interval: str, count: int = 1) -> datetime:
    """`start` moved forward by `count` plan intervals.

    Months and years keep the day of month and clamp it to the target month's length, so a
    subscription bought on 31 January renews on 28 (or 29) February, not in March.
    """
    if interval == Interval.DAY:
        return start + timedelta(days=count)
    if interval == Interval.WEEK:
        return start + timedelta(weeks=count)
    months = count * (12 if interval == Interval.YEAR else 1)
    if interval not in (Interval.MONTH, Interval.YEAR):
        raise ValueError(f"unknown interval {interval!r}")
    year, month_index = divmod(start.month - 1 + months, 12)
    year += start.year
    month = month_index + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)
