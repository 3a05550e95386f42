"""The daily roll-up: equal to the raw events, idempotent, incremental, late events counted once."""

import random
import threading
from collections import defaultdict
from datetime import UTC, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from accounts.tests.factories import UserFactory
from agents.tests.factories import AgentFactory
from botgeneric.channels import Channel
from usage.models import LATENCY_BUCKETS_MS, Outcome, RollupWatermark, UsageDaily, UsageEvent, latency_columns
from usage.rollups import ROLLUPS, WATERMARK, WEEKLY, roll_up
from usage.tasks import roll_up_daily

pytestmark = pytest.mark.django_db

LATER = timedelta(minutes=5)


def _events(count: int, *, users, agents, seed: int) -> list[UsageEvent]:
    rng = random.Random(seed)
    events = []
    for _ in range(count):
        outcome = rng.choice([Outcome.OK, Outcome.OK, Outcome.DENIED, Outcome.ERROR])
        user = rng.choice(users)
        events.append(
            UsageEvent(
                organization_id=user.organization_id if user else None,
                user=user,
                agent=rng.choice(agents),
                channel=rng.choice([Channel.API, Channel.WEB, Channel.TELEGRAM]),
                model=rng.choice(["demo", "gpt-4o-mini"]),
                outcome=outcome,
                tokens_input=rng.randint(0, 900),
                tokens_output=rng.randint(0, 400),
                latency_ms=rng.choice([0, 120, 250, 251, 999, 4000, 59000, 61000, 90000]),
                audio_seconds=rng.randint(0, 3),
                cost_usd=Decimal(rng.randint(0, 10**6)) / Decimal(10**8),
            )
        )
    created = UsageEvent.objects.bulk_create(events)
    # Spread them over ten UTC days (across a week boundary) (created_at is set on insert).
    for index, event in enumerate(created):
        UsageEvent.objects.filter(pk=event.pk).update(created_at=timezone.now() - timedelta(days=index % 10))
    return created


def _event_key(event, columns, *, weekly: bool = False) -> tuple:
    day = event.created_at.astimezone(UTC).date()
    values = {
        "day": day - timedelta(days=day.weekday()) if weekly else day,
        "provider_id": event.prompt_version.provider_id if event.prompt_version else None,
    }
    return tuple(values[name] if name in values else getattr(event, name) for name in columns)


def _expected(columns, *, weekly: bool = False) -> dict:
    """The raw events summed per key (`columns`; `day` the week's Monday if `weekly`), in Python."""
    totals = defaultdict(lambda: defaultdict(int))
    for event in UsageEvent.objects.select_related("prompt_version"):
        row = totals[_event_key(event, columns, weekly=weekly)]
        row["requests"] += 1
        row[{"ok": "ok", "denied": "denied", "error": "failed"}[event.outcome]] += 1
        row["tokens_input"] += event.tokens_input
        row["tokens_output"] += event.tokens_output
        row["audio_seconds"] += event.audio_seconds
        row["cost_usd"] += event.cost_usd
        if event.outcome == Outcome.OK:
            row["latency_ms_sum"] += event.latency_ms
            bucket = next((f"lat_{b}" for b in LATENCY_BUCKETS_MS if event.latency_ms <= b), "lat_over")
            row[bucket] += 1
    return {key: {name: value for name, value in row.items() if value} for key, row in totals.items()}


def _rolled_up(model, columns) -> dict:
    sums = ["requests", "ok", "denied", "failed", "tokens_input", "tokens_output", "audio_seconds", "cost_usd"]
    sums += ["latency_ms_sum", *latency_columns()]
    rows = {}
    for row in model.objects.all():
        key = tuple(getattr(row, name) for name in columns)
        assert key not in rows, "one row per key"
        rows[key] = {name: getattr(row, name) for name in sums if getattr(row, name)}
    return rows


def _all_rolled_up() -> list[dict]:
    return [_rolled_up(model, key) for model, key in ROLLUPS]


def _all_expected() -> list[dict]:
    return [_expected(key, weekly=model in WEEKLY) for model, key in ROLLUPS]


def test_roll_up_equals_the_raw_events_and_running_it_again_changes_nothing():
    users = [UserFactory(), UserFactory(), None]
    agents = [AgentFactory(with_prompt=True), AgentFactory(), None]
    _events(120, users=users, agents=agents, seed=1)

    first = roll_up(now=timezone.now() + LATER)
    snapshot = _all_rolled_up()
    again = roll_up(now=timezone.now() + LATER)

    assert first.rows > 0 and again.rows == 0 and again.last_id == first.last_id
    assert snapshot == _all_expected()
    assert _all_rolled_up() == snapshot
    # The coarser grains really are coarser (fewer rows than the full key) yet add up the same.
    full, by_organization, by_organization_week, by_agent = snapshot
    assert len(by_agent) < len(by_organization) < len(full) and len(by_organization_week) <= len(by_organization)


def test_new_and_late_events_are_added_once_to_their_own_day():
    users = [UserFactory(), UserFactory()]
    agents = [AgentFactory(), AgentFactory()]
    _events(40, users=users, agents=agents, seed=2)
    roll_up(now=timezone.now() + LATER)

    late = _events(30, users=users, agents=agents, seed=3)
    # Events arriving now but dated four days ago (a day already rolled up, or not): added to that day.
    UsageEvent.objects.filter(pk__in=[e.pk for e in late[:5]]).update(created_at=timezone.now() - timedelta(days=4))
    roll_up(now=timezone.now() + LATER)
    roll_up(now=timezone.now() + LATER)

    assert _all_rolled_up() == _all_expected()
    for model, _ in ROLLUPS:
        assert sum(row.requests for row in model.objects.all()) == UsageEvent.objects.count() == 70


def test_events_younger_than_the_settle_delay_wait_for_the_next_run(settings):
    settings.USAGE_ROLLUP_SETTLE_SECONDS = 60
    _events(3, users=[UserFactory()], agents=[None], seed=4)
    UsageEvent.objects.update(created_at=timezone.now())

    assert roll_up().rows == 0 and not UsageDaily.objects.exists()
    assert roll_up(now=timezone.now() + timedelta(seconds=61)).rows > 0
    assert _all_rolled_up() == _all_expected()


def test_the_periodic_task_rolls_up(settings):
    settings.USAGE_ROLLUP_SETTLE_SECONDS = 0
    _events(10, users=[UserFactory()], agents=[AgentFactory()], seed=5)

    roll_up_daily.delay()

    assert _all_rolled_up() == _all_expected()
    assert "usage.roll_up_daily" in {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_page_does_not_wait_for_a_roll_up_that_is_running():
    RollupWatermark.objects.create(name=WATERMARK)
    locked, release = threading.Event(), threading.Event()

    def hold_the_watermark():
        with transaction.atomic():
            RollupWatermark.objects.select_for_update().get(name=WATERMARK)
            locked.set()
            release.wait(10)
        connection.close()

    holder = threading.Thread(target=hold_the_watermark)
    holder.start()
    assert locked.wait(10)
    try:
        assert roll_up(wait=False) is None
    finally:
        release.set()
        holder.join()
    assert roll_up(wait=False) is not None
