"""Analytics with a million calls: seed, roll up, and time the operator's page and the customer's reads. Prints.

    python -m bench.analytics                 # 1,000,000 usage events over 90 days, 1,000 organizations
    python -m bench.analytics -n 200000       # fewer
    python -m bench.analytics --reuse         # keep the seeded database, time the reads again

Uses its own database (`postgres://postgres@127.0.0.1:5432/botgeneric_bench_analytics` unless
`--database-url` / `BENCH_ANALYTICS_DATABASE_URL`), created and migrated if needed; production settings
(DEBUG off). Events are made by PostgreSQL itself (`INSERT … SELECT … FROM generate_series`), spread over 90
days, 1,000 organizations, their members, 4 agents, 3 channels and 2 models, 85 % answered, 8 % denied, 7 %
failed, latencies skewed towards fast. Each organization pays a monthly plan for three months. Then:
the full roll-up, an incremental one after 10,000 new events, and the median of 5 requests of the admin's
/admin/analytics/ (30 and 90 days), the customer's /dashboard/analytics/ and GET /api/v1/usage/daily,
in-process through Django's test client (no HTTP server), with their SQL statement counts.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.invoke import app_environment, ensure_database, migrate, setup_django  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/botgeneric_bench_analytics"
ORGANIZATIONS = 1000
RUNS = 5


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_ANALYTICS_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("-n", "--events", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="do not seed again if the events are there")
    parser.add_argument("--db-pool", type=int, default=0)
    return parser.parse_args(argv)


def seed_catalog_and_customers() -> tuple[list[int], list[int]]:
    """Plans, 4 agents, 1,000 organizations with an owner, an active monthly account and three monthly payments."""
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import User
    from agents.models import Agent
    from billing.catalog_seed import seed_plans
    from billing.models import AccountStatus, BillingAccount, Payment, PaymentStatus, Plan
    from tenants.models import Organization

    seed_plans()
    plan = Plan.objects.get(code="monthly")
    agents = [
        Agent.objects.get_or_create(slug=f"bench-{n}", defaults={"name": f"Bench agent {n}"})[0] for n in range(4)
    ]
    now = timezone.now()
    organizations = Organization.objects.bulk_create(
        Organization(name=f"Customer {n}", slug=f"bench-customer-{n}") for n in range(ORGANIZATIONS)
    )
    User.objects.bulk_create(
        User(email=f"owner{n}@bench.example", organization=org, role="owner", email_verified=True)
        for n, org in enumerate(organizations)
    )
    accounts = BillingAccount.objects.bulk_create(
        BillingAccount(
            organization=org,
            plan=plan,
            status=AccountStatus.ACTIVE,
            current_period_start=now - timedelta(days=10),
            current_period_end=now + timedelta(days=20),
        )
        for org in organizations
    )
    Payment.objects.bulk_create(
        Payment(
            account=account,
            provider="manual",
            external_id=f"bench-{account.pk}-{month}",
            amount=plan.prices.get(currency="USD").amount,
            currency="USD",
            status=PaymentStatus.SUCCEEDED,
            plan=plan,
            period_start=now - timedelta(days=10 + 30 * month),
            period_end=now + timedelta(days=20 - 30 * month),
        )
        for account in accounts
        for month in range(3)
    )
    return [org.pk for org in organizations], [agent.pk for agent in agents]


def seed_events(count: int, *, organizations: list[int], agents: list[int], newest_minutes_ago: int = 5) -> float:
    """`count` usage events made by PostgreSQL, over the 90 days before `newest_minutes_ago`; seconds taken."""
    from django.db import connection

    from usage.models import UsageEvent

    table = UsageEvent._meta.db_table
    sql = f"""
        INSERT INTO {table} (organization_id, user_id, agent_id, channel, model, outcome, error_code,
                             tokens_input, tokens_output, latency_ms, audio_seconds, cost_usd, created_at)
        SELECT t.org, u.id, (%(agents)s::bigint[])[1 + floor(t.a * 4)::int],
               (ARRAY['web', 'api', 'telegram'])[1 + floor(t.c * 3)::int],
               (ARRAY['gpt-4o-mini', 'demo'])[1 + floor(t.m * 2)::int],
               CASE WHEN r < 0.85 THEN 'ok' WHEN r < 0.93 THEN 'denied' ELSE 'error' END,
               CASE WHEN r < 0.85 THEN '' WHEN r < 0.93 THEN 'quota_exceeded' ELSE 'upstream_error' END,
               t.tin, t.tout, (random() ^ 3 * 30000)::int, 0,
               CASE WHEN r < 0.85 THEN (t.tin * 0.15 + t.tout * 0.60) / 1000000 ELSE 0 END,
               now() - make_interval(mins => %(newest)s) - random() * interval '90 days'
        FROM generate_series(1, %(count)s) g
        CROSS JOIN LATERAL (SELECT random() AS r, random() AS a, random() AS c, random() AS m,
                                   (random() * 2000)::int AS tin, (random() * 800)::int AS tout,
                                   (%(orgs)s::bigint[])[1 + (g %% %(norgs)s)] AS org) t
        JOIN accounts_user u ON u.organization_id = t.org
    """  # noqa: S608
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "agents": agents,
                "orgs": organizations,
                "norgs": len(organizations),
                "count": count,
                "newest": newest_minutes_ago,
            },
        )
    return time.perf_counter() - began


def timed(function) -> float:
    began = time.perf_counter()
    function()
    return time.perf_counter() - began


def median_request(client, path: str, params: dict, **headers) -> tuple[float, int, int]:
    """Median ms of RUNS requests (after one warm-up), their status and SQL statement count."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(path, params, **headers)
    times = []
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            response = client.get(path, params, **headers)
            times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times), response.status_code, len(queries.captured_queries)


def main(argv=None) -> None:
    args = parse_args(argv)
    ensure_database(args.database_url)
    env = app_environment(args)
    migrate(env)
    setup_django(env)

    from django.conf import settings
    from django.test import Client

    # The pages' {% static %} without collectstatic's manifest (the benchmark serves no static files).
    settings.STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
    from accounts.models import User
    from billing.models import Plan
    from tenants.models import Organization
    from usage.models import UsageDaily, UsageEvent
    from usage.rollups import roll_up

    existing = UsageEvent.objects.count()
    if not (args.reuse and existing >= args.events):
        print(f"seeding {args.events:,} usage events …", flush=True)
        from django.core.management import call_command

        call_command("flush", "--noinput", verbosity=0)
        organizations, agents = seed_catalog_and_customers()
        print(f"  events inserted in {seed_events(args.events, organizations=organizations, agents=agents):.1f} s")
        print(f"  full roll-up: {timed(roll_up):.1f} s → {UsageDaily.objects.count():,} daily rows")
    else:
        organizations = list(
            Organization.objects.filter(slug__startswith="bench-customer-").values_list("pk", flat=True)
        )
        agents = list(UsageEvent.objects.values_list("agent_id", flat=True).distinct()[:4])
        roll_up()
    extra = seed_events(10_000, organizations=organizations, agents=agents, newest_minutes_ago=2)
    print(f"  10,000 more events in {extra:.2f} s; incremental roll-up: {timed(roll_up) * 1000:.0f} ms")
    print(f"{UsageEvent.objects.count():,} events, {UsageDaily.objects.count():,} daily rows")

    operator = User.objects.filter(email="bench-operator@bench.example").first() or User.objects.create(
        email="bench-operator@bench.example", is_staff=True, is_superuser=True
    )
    admin = Client()
    admin.force_login(operator)
    customer = User.objects.filter(organization_id=organizations[0]).first()
    Plan.objects.filter(code="monthly").update(features=["Advanced analytics"])
    web = Client()
    web.force_login(customer)
    from rest_framework_simplejwt.tokens import RefreshToken

    bearer = {"HTTP_AUTHORIZATION": f"Bearer {RefreshToken.for_user(customer).access_token}"}
    rows = [
        ("admin /admin/analytics/, 30 days", median_request(admin, "/admin/analytics/", {"days": 30})),
        ("admin /admin/analytics/, 90 days", median_request(admin, "/admin/analytics/", {"days": 90})),
        (
            "admin CSV margin per organization, 90 days",
            median_request(admin, "/admin/analytics/", {"days": 90, "export": "margin_org"}),
        ),
        ("customer /dashboard/analytics/, 30 days", median_request(web, "/dashboard/analytics/", {"days": 30})),
        (
            "API /api/v1/usage/daily?group_by=agent",
            median_request(web, "/api/v1/usage/daily", {"group_by": "agent"}, **bearer),
        ),
    ]
    print(f"\n{'request':<48} {'median ms':>10} {'status':>7} {'SQL':>5}")
    for label, (ms, status, queries) in rows:
        print(f"{label:<48} {ms:>10.0f} {status:>7} {queries:>5}")


if __name__ == "__main__":
    main()
