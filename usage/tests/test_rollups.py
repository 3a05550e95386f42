"""The daily roll-up: equal to the raw events, idempotent, incremental, late events counted once."""

import random
from collections import defaultdict
from datetime import UTC, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from agents.tests.factories import AgentFactory
from botgeneric.channels import Channel
from usage.models import LATENCY_BUCKETS_MS, Outcome, UsageDaily, UsageEvent, latency_columns
from usage.rollups import roll_up
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
    # Spread them over three UTC days (created_at is set on insert).
    for index, event in enumerate(created):
        UsageEvent.objects.filter(pk=event.pk).update(created_at=timezone.now() - timedelta(days=index % 3))
    return created


def _expected() -> dict:
    """The raw events summed per roll-up key, in Python."""
    totals = defaultdict(lambda: defaultdict(int))
    for event in UsageEvent.objects.select_related("prompt_version"):
        key = (
            event.created_at.astimezone(UTC).date(),
            event.organization_id,
            event.user_id,
            event.agent_id,
            event.prompt_version.provider_id if event.prompt_version else None,
            event.channel,
            event.model,
        )
        row = totals[key]
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


def _rolled_up() -> dict:
    columns = ["requests", "ok", "denied", "failed", "tokens_input", "tokens_output", "audio_seconds", "cost_usd"]
    columns += ["latency_ms_sum", *latency_columns()]
    rows = {}
    for row in UsageDaily.objects.all():
        key = (row.day, row.organization_id, row.user_id, row.agent_id, row.provider_id, row.channel, row.model)
        assert key not in rows, "one row per key"
        rows[key] = {name: getattr(row, name) for name in columns if getattr(row, name)}
    return rows


def test_roll_up_equals_the_raw_events_and_running_it_again_changes_nothing():
    users = [UserFactory(), UserFactory(), None]
    agents = [AgentFactory(with_prompt=True), AgentFactory(), None]
    _events(120, users=users, agents=agents, seed=1)

    first = roll_up(now=timezone.now() + LATER)
    snapshot = _rolled_up()
    again = roll_up(now=timezone.now() + LATER)

    assert first.rows > 0 and again.rows == 0 and again.last_id == first.last_id
    assert snapshot == _expected()
    assert _rolled_up() == snapshot


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

    assert _rolled_up() == _expected()
    assert sum(row.requests for row in UsageDaily.objects.all()) == UsageEvent.objects.count() == 70


def test_events_younger_than_the_settle_delay_wait_for_the_next_run(settings):
    settings.USAGE_ROLLUP_SETTLE_SECONDS = 60
    _events(3, users=[UserFactory()], agents=[None], seed=4)
    UsageEvent.objects.update(created_at=timezone.now())

    assert roll_up().rows == 0 and not UsageDaily.objects.exists()
    assert roll_up(now=timezone.now() + timedelta(seconds=61)).rows > 0
    assert _rolled_up() == _expected()


def test_the_periodic_task_rolls_up(settings):
    settings.USAGE_ROLLUP_SETTLE_SECONDS = 0
    _events(10, users=[UserFactory()], agents=[AgentFactory()], seed=5)

    roll_up_daily.delay()

    assert _rolled_up() == _expected()
    assert "usage.roll_up_daily" in {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
