"""Writes of the daily roll-up: the usage events past a watermark, added into `UsageDaily` rows.

One table per grain: `UsageDaily` (organization, member, agent, provider, channel, model: the customer's
reads), `OrganizationDaily` and `OrganizationWeekly` (organization, agent: margins) and `AgentDaily` (agent,
provider, model: cost per day, errors, latency), so each page reads the coarsest rows that answer it.

`roll_up()` reads events by id, from the watermark to the newest one older than
`USAGE_ROLLUP_SETTLE_SECONDS`: an id is taken when the event's row is inserted, so a call whose
statement commits a moment after a later one's would be skipped by a watermark that ran ahead of it;
the settle delay lets it commit first. Ids, not times, decide what was read: an event dated yesterday
that arrives today is added to yesterday's row, once. The aggregation and the merge are one
`INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE` (PostgreSQL and SQLite both speak it), and the
watermark moves in the same transaction, under its row lock: running it again, or twice at once,
adds nothing twice.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, DateField, DecimalField, F, Max, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncDate, TruncWeek
from django.utils import timezone

from usage.models import (
    LATENCY_BUCKETS_MS,
    AgentDaily,
    OrganizationDaily,
    OrganizationWeekly,
    Outcome,
    RollupWatermark,
    UsageDaily,
    UsageEvent,
)

logger = logging.getLogger(__name__)

WATERMARK = "usage_daily"
#: Each roll-up table and its key (the columns its rows are unique by); `day` is the week's Monday in the weekly one.
ROLLUPS = (
    (UsageDaily, ("day", "organization_id", "user_id", "agent_id", "provider_id", "channel", "model")),
    (OrganizationDaily, ("day", "organization_id", "agent_id")),
    (OrganizationWeekly, ("day", "organization_id", "agent_id")),
    (AgentDaily, ("day", "agent_id", "provider_id", "model")),
)
WEEKLY = (OrganizationWeekly,)
NULLABLE_KEY = ("organization_id", "user_id", "agent_id", "provider_id")
_OK = Q(outcome=Outcome.OK)


@dataclass(frozen=True)
class RollupResult:
    rows: int  # daily rows created or added to
    last_id: int


def _sums() -> dict:
    """Column of UsageDaily → its aggregate over a group of events (in the table's column order)."""
    zero = Value(0)
    sums = {
        "requests": Count("id"),
        "ok": Count("id", filter=_OK),
        "denied": Count("id", filter=Q(outcome=Outcome.DENIED)),
        "failed": Count("id", filter=Q(outcome=Outcome.ERROR)),
        "tokens_input": Coalesce(Sum("tokens_input"), zero),
        "tokens_output": Coalesce(Sum("tokens_output"), zero),
        "audio_seconds": Coalesce(Sum("audio_seconds"), zero),
        "cost_usd": Coalesce(Sum("cost_usd"), Value(0), output_field=DecimalField(max_digits=18, decimal_places=8)),
        "latency_ms_sum": Coalesce(Sum("latency_ms", filter=_OK), zero),
    }
    lower = None
    for bound in LATENCY_BUCKETS_MS:
        in_bucket = _OK & Q(latency_ms__lte=bound) & (Q(latency_ms__gt=lower) if lower is not None else Q())
        sums[f"lat_{bound}"] = Count("id", filter=in_bucket)
        lower = bound
    sums["lat_over"] = Count("id", filter=_OK & Q(latency_ms__gt=lower))
    return sums


def _aggregate_sql(table_model, key: tuple[str, ...], *, after_id: int, up_to_id: int) -> tuple[str, tuple]:
    """The new events summed per key of `table_model` and merged into it: the SELECT is the ORM's."""
    sums = _sums()
    if table_model in WEEKLY:
        period = TruncWeek("created_at", output_field=DateField(), tzinfo=UTC)
    else:
        period = TruncDate("created_at", tzinfo=UTC)
    query = (
        UsageEvent.objects.filter(id__gt=after_id, id__lte=up_to_id)
        .annotate(day=period, provider_id=F("prompt_version__provider_id"))
        .values(*key)
        .annotate(**{f"s_{column}": aggregate for column, aggregate in sums.items()})
        .order_by()
    )
    sql, params = query.query.sql_with_params()
    columns = [*key, *sums]
    select = ", ".join(f"agg.{name}" for name in key) + ", " + ", ".join(f"agg.s_{name}" for name in sums)
    target = ", ".join(f"COALESCE({name}, 0)" if name in NULLABLE_KEY else name for name in key)
    table = table_model._meta.db_table
    merge = ", ".join(f"{column} = {table}.{column} + EXCLUDED.{column}" for column in sums)
    statement = (
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {select} FROM ({sql}) agg WHERE true "  # noqa: S608
        f"ON CONFLICT ({target}) DO UPDATE SET {merge}"
    )
    return statement, params


def roll_up(*, now: datetime | None = None, wait: bool = True) -> RollupResult | None:
    """Add the events past the watermark (up to the newest settled one) into the daily rows of each grain.
    With `wait=False`, None at once when another roll-up is running (a page does not queue behind it)."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.USAGE_ROLLUP_SETTLE_SECONDS)
    RollupWatermark.objects.get_or_create(name=WATERMARK)
    with transaction.atomic():
        mark = RollupWatermark.objects.select_for_update(skip_locked=not wait).filter(name=WATERMARK).first()
        if mark is None:
            return None
        newest = UsageEvent.objects.filter(id__gt=mark.last_id, created_at__lte=cutoff).aggregate(newest=Max("id"))
        if newest["newest"] is None:
            return RollupResult(rows=0, last_id=mark.last_id)
        rows = 0
        for table_model, key in ROLLUPS:
            statement, params = _aggregate_sql(table_model, key, after_id=mark.last_id, up_to_id=newest["newest"])
            with connection.cursor() as cursor:
                cursor.execute(statement, params)
                rows += cursor.rowcount
        RollupWatermark.objects.filter(pk=mark.pk).update(last_id=newest["newest"], updated_at=timezone.now())
    logger.info("usage roll-up added events up to id %s", newest["newest"])
    return RollupResult(rows=rows, last_id=newest["newest"])


def bring_up_to_date() -> None:
    """Without a broker nothing runs the periodic roll-up (`make run`): a page or API read runs it first
    (unless one is running: the read then shows what is rolled up already)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        roll_up(wait=False)
