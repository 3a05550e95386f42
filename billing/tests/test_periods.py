from datetime import UTC, datetime

import pytest

from billing.periods import add_interval


@pytest.mark.parametrize(
    ("start", "interval", "count", "end"),
    [
        (datetime(2027, 3, 1, 12, tzinfo=UTC), "day", 1, datetime(2027, 3, 2, 12, tzinfo=UTC)),
        (datetime(2027, 3, 1, 12, tzinfo=UTC), "week", 2, datetime(2027, 3, 15, 12, tzinfo=UTC)),
        (datetime(2027, 1, 31, 8, tzinfo=UTC), "month", 1, datetime(2027, 2, 28, 8, tzinfo=UTC)),
        (datetime(2028, 1, 31, 8, tzinfo=UTC), "month", 1, datetime(2028, 2, 29, 8, tzinfo=UTC)),
        (datetime(2027, 11, 30, tzinfo=UTC), "month", 3, datetime(2028, 2, 29, tzinfo=UTC)),
        (datetime(2027, 12, 15, tzinfo=UTC), "month", 1, datetime(2028, 1, 15, tzinfo=UTC)),
        (datetime(2028, 2, 29, tzinfo=UTC), "year", 1, datetime(2029, 2, 28, tzinfo=UTC)),
    ],
)
def test_period_end_follows_calendar_with_day_clamping(start, interval, count, end):
    assert add_interval(start, interval, count) == end
