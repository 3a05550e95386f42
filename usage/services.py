"""Metering: period counters (changed only by conditional UPDATEs) and one UsageEvent per call.

The policy engine decides with `reserve()`; the invoke service settles or releases what was
reserved once the upstream call is over and records the event.
"""

import functools
import logging
import threading
import time
from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import F
from django.utils import timezone

from agents.models import ModelPrice
from botgeneric import metrics
from botgeneric.one_statement import Write
from botgeneric.prepared_statements import fetch_one
from usage import thresholds
from usage.models import Outcome, PeriodCounter, UsageEvent

logger = logging.getLogger(__name__)

# Column names are the models' own (checked by the tests that run these statements).
_COUNTER_TABLE = PeriodCounter._meta.db_table
_EVENT_TABLE = UsageEvent._meta.db_table
_PERIOD_START = PeriodCounter._meta.get_field("period_start")
PRICE_CACHE_SECONDS = 60
_prices: dict[str, tuple[Decimal, Decimal]] = {}
_prices_loaded_at = 0.0
_prices_lock = threading.Lock()


def _counter(*, account, period_start: datetime):
    return PeriodCounter.objects.filter(account_id=account.pk, period_start=period_start)


def reserve(
    *,
    account,
    period_start: datetime,
    period_end: datetime,
    limits: dict[str, int | None],
    tokens_input: int,
    tokens_output: int = 0,
) -> dict[str, int] | None:
    """Add one request, `tokens_input` and `tokens_output` to the period's counter if that stays within
    `limits`: the counter after it (`requests`, `tokens_input`, `tokens_output`), or None when refused.

    One conditional UPDATE (`requests + 1 <= limit`, `tokens_input + n <= limit`, `tokens_output + m <=
    limit`) that the database serializes per row: with quota K, at most K concurrent callers get a counter, and
    reserved tokens never pass a token quota. The counter of a new period is created on first use (a
    racing creator is caught by the unique constraint).
    """
    tokens = (tokens_input, tokens_output)
    after = _reserve_once(account_id=account.pk, period_start=period_start, limits=limits, tokens=tokens)
    if after is None:
        # No row updated: either the period's counter does not exist yet, or the quota is used up. Make
        # sure it exists (a concurrent first caller may have just created it) and try once more.
        PeriodCounter.objects.get_or_create(
            account_id=account.pk, period_start=period_start, defaults={"period_end": period_end}
        )
        after = _reserve_once(account_id=account.pk, period_start=period_start, limits=limits, tokens=tokens)
        if after is None:
            return None
    used = dict(zip(("requests", "tokens_input", "tokens_output"), after, strict=True))
    thresholds.report_reservation(
        account=account,
        period_start=period_start,
        period_end=period_end,
        limits=limits,
        added={"requests": 1, "tokens_input": tokens_input, "tokens_output": tokens_output},
        after=used,
    )
    return used


def _reserve_once(
    *, account_id: int, period_start: datetime, limits: dict[str, int | None], tokens: tuple[int, int]
) -> tuple[int, int, int] | None:
    """The conditional UPDATE, written out: it runs on every call, and the ORM spent more CPU building
    and compiling it (~1 ms) than PostgreSQL spends running it. Returns the counter after it (requests,
    tokens_input, tokens_output), None when it updated nothing."""
    tokens_input, tokens_output = tokens
    conditions, params = (
        ["account_id = %s", "period_start = %s"],
        [tokens_input, tokens_output, account_id, _PERIOD_START.get_db_prep_value(period_start, connection)],
    )
    for column, used in (("requests", 1), ("tokens_input", tokens_input), ("tokens_output", tokens_output)):
        if limits[column] is not None:
            conditions.append(f"{column} <= %s")
            params.append(limits[column] - used)
    sql = (
        f"UPDATE {_COUNTER_TABLE} SET requests = requests + 1, tokens_input = tokens_input + %s, "  # noqa: S608
        f"tokens_output = tokens_output + %s WHERE {' AND '.join(conditions)} "
        "RETURNING requests, tokens_input, tokens_output"
    )
    return fetch_one(connection, sql, params)


def counter_values(*, account, period_start: datetime) -> dict[str, int]:
    row = _counter(account=account, period_start=period_start).values("requests", "tokens_input", "tokens_output")
    return row.first() or {"requests": 0, "tokens_input": 0, "tokens_output": 0}


def settle(
    *,
    account,
    period_start: datetime,
    reserved_tokens_input: int,
    tokens_input: int,
    tokens_output: int,
    reserved_tokens_output: int = 0,
) -> None:
    """Replace the reserved token estimates by the real counts (one UPDATE). The output reservation is
    the version's max_tokens, so the output count only shrinks; the input estimate may be a little low,
    and the next reservation is then refused."""
    _counter(account=account, period_start=period_start).update(
        tokens_input=F("tokens_input") + (tokens_input - reserved_tokens_input),
        tokens_output=F("tokens_output") + (tokens_output - reserved_tokens_output),
    )


def release(
    *,
    account,
    period_start: datetime,
    reserved_requests: int,
    reserved_tokens_input: int,
    reserved_tokens_output: int = 0,
) -> None:
    """Give a failed call's reservation back: the customer does not pay for our provider's failure."""
    _counter(account=account, period_start=period_start).update(
        requests=F("requests") - reserved_requests,
        tokens_input=F("tokens_input") - reserved_tokens_input,
        tokens_output=F("tokens_output") - reserved_tokens_output,
    )


def clear_price_cache() -> None:
    global _prices_loaded_at
    with _prices_lock:
        _prices.clear()
        _prices_loaded_at = 0.0


def _price_table() -> dict[str, tuple[Decimal, Decimal]]:
    """Model prices, re-read at most once a minute: the hot path should not query them on every call."""
    global _prices_loaded_at
    now = time.monotonic()
    if now - _prices_loaded_at > PRICE_CACHE_SECONDS:
        table = {row.model: (row.input_per_1m, row.output_per_1m) for row in ModelPrice.objects.all()}
        with _prices_lock:
            _prices.clear()
            _prices.update(table)
            _prices_loaded_at = now
    return _prices


def cost_usd(*, model: str, tokens_input: int, tokens_output: int) -> Decimal:
    """USD cost of a call by ModelPrice (per 1M tokens); 0 for a model without a price (e.g. demo)."""
    if not model:
        return Decimal(0)
    price = _price_table().get(model)
    if price is None:
        return Decimal(0)
    per_input, per_output = price
    return (per_input * tokens_input + per_output * tokens_output) / Decimal(1_000_000)


def record_event(
    *,
    user,
    agent,
    channel: str,
    outcome: Outcome,
    error_code: str = "",
    prompt_version=None,
    model: str = "",
    tokens_input: int = 0,
    tokens_output: int = 0,
    latency_ms: int = 0,
    audio_seconds: int = 0,
    for_organization: bool = True,
) -> UsageEvent:
    """One row per call on any channel: allowed, denied or failed. Its cost is that of the tokens it was
    charged (none for a denial or a failure before the answer began; the delivered part of an answer
    that failed or was stopped midway). `for_organization=False` keeps it out of the user's organization's
    usage (an operator trying a draft)."""
    charged = outcome != Outcome.DENIED and (tokens_input or tokens_output)
    event = UsageEvent.objects.create(
        organization_id=user.organization_id if for_organization else None,
        user_id=user.pk,
        agent_id=getattr(agent, "pk", None),
        prompt_version_id=getattr(prompt_version, "pk", None),
        channel=channel,
        model=model,
        outcome=outcome,
        error_code=error_code,
        tokens_input=tokens_input,
        tokens_output=tokens_output,
        latency_ms=latency_ms,
        audio_seconds=audio_seconds,
        cost_usd=cost_usd(model=model, tokens_input=tokens_input, tokens_output=tokens_output) if charged else 0,
    )
    _observe(
        agent=agent,
        channel=channel,
        outcome=outcome,
        error_code=error_code,
        tokens=(tokens_input, tokens_output),
        latency_ms=latency_ms,
    )()
    return event


def _observe(*, agent, channel: str, outcome: Outcome, error_code: str, tokens: tuple[int, int], latency_ms: int):
    """The metrics of one usage event, to count once it is written: increments only, no query."""
    return functools.partial(
        metrics.observe_call,
        agent=metrics.agent_label(agent),
        channel=str(channel),
        outcome=str(outcome),
        error_code=error_code,
        tokens_input=tokens[0],
        tokens_output=tokens[1],
        latency_ms=latency_ms,
    )


def settle_write(
    *,
    account,
    period_start: datetime,
    reserved_tokens_input: int,
    tokens_input: int,
    tokens_output: int,
    reserved_tokens_output: int = 0,
) -> Write:
    """`settle()` as a part of a combined statement (`botgeneric.one_statement`)."""
    return Write(
        "settled",
        f"UPDATE {_COUNTER_TABLE} SET tokens_input = tokens_input + %s, tokens_output = tokens_output + %s "  # noqa: S608
        "WHERE account_id = %s AND period_start = %s",
        [tokens_input - reserved_tokens_input, tokens_output - reserved_tokens_output, account.pk, period_start],
    )


def release_write(
    *,
    account,
    period_start: datetime,
    reserved_requests: int,
    reserved_tokens_input: int,
    reserved_tokens_output: int = 0,
) -> Write:
    """`release()` as a part of a combined statement."""
    return Write(
        "released",
        f"UPDATE {_COUNTER_TABLE} SET requests = requests - %s, tokens_input = tokens_input - %s, "  # noqa: S608
        "tokens_output = tokens_output - %s WHERE account_id = %s AND period_start = %s",
        [reserved_requests, reserved_tokens_input, reserved_tokens_output, account.pk, period_start],
    )


EVENT_COLUMNS = (
    "organization_id",
    "user_id",
    "agent_id",
    "prompt_version_id",
    "channel",
    "model",
    "outcome",
    "error_code",
    "tokens_input",
    "tokens_output",
    "latency_ms",
    "audio_seconds",
    "cost_usd",
    "created_at",
)


def event_write(
    *,
    user,
    agent,
    channel: str,
    outcome: Outcome,
    error_code: str = "",
    prompt_version=None,
    model: str = "",
    tokens_input: int = 0,
    tokens_output: int = 0,
    latency_ms: int = 0,
) -> Write:
    """`record_event()` as a part of a combined statement: the same row, the same cost."""
    charged = outcome != Outcome.DENIED and (tokens_input or tokens_output)
    values = [
        user.organization_id,
        user.pk,
        getattr(agent, "pk", None),
        getattr(prompt_version, "pk", None),
        str(channel),
        model,
        str(outcome),
        error_code,
        tokens_input,
        tokens_output,
        latency_ms,
        0,
        cost_usd(model=model, tokens_input=tokens_input, tokens_output=tokens_output) if charged else Decimal(0),
        timezone.now(),
    ]
    return Write(
        "recorded",
        f"INSERT INTO {_EVENT_TABLE} ({', '.join(EVENT_COLUMNS)}) VALUES ({', '.join(['%s'] * len(values))})",  # noqa: S608
        values,
        after=_observe(
            agent=agent,
            channel=channel,
            outcome=outcome,
            error_code=error_code,
            tokens=(tokens_input, tokens_output),
            latency_ms=latency_ms,
        ),
    )
