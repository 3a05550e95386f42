"""Load benchmark of the invoke path: POST /api/v1/agents/{id}/invoke served as `make run` serves it (gunicorn
managing uvicorn workers), against a fake OpenAI upstream with a fixed latency. Prints figures; asserts nothing.

    python -m bench.invoke                       # the two default scenarios
    python -m bench.invoke -c 64 -l 100 -d 20    # one scenario: 64 in flight, 100 ms upstream, 20 s

What it reports per scenario, and why:
- requests/s and latency p50/p95/p99 of the app;
- the upstream's own latency p50/p95/p99, measured by driving the fake upstream directly with the same
  concurrency, and the app's overhead over it (percentile by percentile);
- the Little's-law bound N / upstream latency: with N calls in flight, each taking at least the upstream's
  latency, no server can do better; the achieved fraction says how close the app comes;
- SQL queries per invoke, counted in-process (same code path, same database) with CaptureQueriesContext.
"""

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/botgeneric_bench"
AGENT_SLUG = "bench-echo"
ORG_SLUG = "bench"
MODEL = "bench-model"
DEFAULT_SCENARIOS = [(32, 20), (200, 500)]


@dataclass
class Scenario:
    concurrency: int
    latency_ms: int


@dataclass
class Run:
    latencies: list[float]
    errors: Counter
    elapsed: float
    cpu: float = 0.0  # CPU seconds the server processes used inside the measured window

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
        return ordered[index]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"process {process.args!r} exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of processes (Linux /proc), to express cost per request independently of
    how busy the machine is."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def children(pid: int) -> list[int]:
    with contextlib.suppress(OSError):
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return []


def ensure_database(url: str) -> None:
    """Create the benchmark database if it does not exist (on the same server, through `postgres`)."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def app_environment(args) -> dict[str, str]:
    """Production-like settings: DEBUG off, no rate limit, INFO logs off the hot path."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="botgeneric.settings.base",
        DATABASE_URL=args.database_url,
        SECRET_KEY=env.get("SECRET_KEY") or secrets.token_urlsafe(64),
        DEBUG="0",
        HTTPS_ONLY="0",
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        LOG_LEVEL="WARNING",
        DEFAULT_RATE_LIMIT_PER_MINUTE="0",
        OPENAI_API_KEY="",
        PYTHONPATH=str(ROOT),
        PYTHONWARNINGS="ignore:No directory at",
    )
    if args.db_pool:
        env["DATABASE_POOL_MAX_SIZE"] = str(args.db_pool)
    return env


def migrate(env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)


def start_upstream(latency_ms: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "testing.fakes.openai_upstream", "--port", str(port), "--latency-ms", str(latency_ms)],
        cwd=ROOT,
    )
    wait_for_port(port, process)
    return process, f"http://127.0.0.1:{port}/v1"


def start_server(env: dict[str, str], workers: int = 2) -> tuple[subprocess.Popen, str]:
    """The command `make run` runs (gunicorn managing uvicorn workers, CONN_MAX_AGE=0, the pool of
    DATABASE_POOL_MAX_SIZE connections per worker), on a free port, without the access log."""
    port = free_port()
    env = {**env, "CONN_MAX_AGE": "0"}
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "botgeneric.asgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--worker-class",
        "uvicorn_worker.UvicornWorker",
        "--workers",
        str(workers),
        "--backlog",
        "4096",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    wait_for_health(url, process)
    return process, url


def start_floor_server(env: dict[str, str], workers: int = 2) -> tuple[subprocess.Popen, str]:
    """The floor (bench/floor.py) served by the same command as the app (`start_server`): the process and
    its base URL."""
    return start_server({**env, "DJANGO_SETTINGS_MODULE": "bench.floor_settings"}, workers)


def floor_path(agent_id: int) -> str:
    """The floor's view (bench/floor.py), reached under /api/ with an API key like the invoke it stands for."""
    return f"/api/v1/bench/floor/{agent_id}"


def wait_for_health(url: str, process: subprocess.Popen, timeout: float = 120.0) -> None:
    """The arbiter binds the port before its workers have loaded the app; wait until the app answers."""
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/healthz", timeout=5) as response:
            if response.status == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"{url}/healthz did not answer in {timeout} s")


def setup_django(env: dict[str, str]) -> None:
    """The same settings in this process, to seed and to count queries in-process."""
    os.environ.update(env)
    import django

    django.setup()


def seed(upstream_url: str) -> tuple[int, str]:
    """A customer on an active plan with unlimited quotas on the api channel, one agent whose prompt
    uses a provider pointing at the fake upstream, and a fresh API key. Idempotent but for the key."""
    from datetime import timedelta
    from decimal import Decimal

    from django.db import transaction
    from django.utils import timezone

    from accounts.models import User
    from agents.models import Agent, LLMProvider, ModelPrice, ProviderKind
    from billing.models import AccountStatus, BillingAccount, Interval, Plan, PlanAgent
    from prompts.selectors import active_version
    from prompts.services import activate_version, create_draft
    from tenants.models import Organization, Role
    from tenants.services import create_api_key

    now = timezone.now()
    with transaction.atomic():
        organization, _ = Organization.objects.get_or_create(slug=ORG_SLUG, defaults={"name": "Bench Inc."})
        owner = User.objects.filter(email="bench-owner@example.com").first() or User.objects.create_user(
            "bench-owner@example.com", secrets.token_urlsafe(16), organization=organization, role=Role.OWNER
        )
        plan, _ = Plan.objects.update_or_create(
            code="bench-unlimited",
            defaults={
                "name": "Bench unlimited",
                "interval": Interval.YEAR,
                "quota_requests": None,
                "quota_tokens_input": None,
                "quota_tokens_output": None,
                "channels": ["web", "api"],
                "is_active": False,
            },
        )
        account, _ = BillingAccount.objects.get_or_create(organization=organization)
        if account.current_period_end is None or account.current_period_end < now + timedelta(days=1):
            account.current_period_start, account.current_period_end = now, now + timedelta(days=365)
        account.plan, account.status, account.provider = plan, AccountStatus.ACTIVE, "manual"
        account.save()
        provider, _ = LLMProvider.objects.update_or_create(
            name="bench-upstream",
            defaults={
                "kind": ProviderKind.OPENAI,
                "base_url": upstream_url,
                "api_key_encrypted": "",
                "api_key_env": "",
                "timeout": 30,
                "max_retries": 0,
            },
        )
        ModelPrice.objects.get_or_create(
            model=MODEL, defaults={"input_per_1m": Decimal("0.15"), "output_per_1m": Decimal("0.60")}
        )
        agent, _ = Agent.objects.get_or_create(slug=AGENT_SLUG, defaults={"name": "Bench echo", "is_active": True})
        PlanAgent.objects.get_or_create(plan=plan, agent=agent)
    current = active_version(agent=agent)
    if current is None or current.provider_id != provider.pk:
        draft = create_draft(
            agent=agent,
            system_prompt="You are the benchmark agent.",
            template="Answer briefly: {input}",
            model=MODEL,
            provider=provider,
            max_tokens=64,
        )
        activate_version(version=draft)
    _, secret = create_api_key(organization=organization, name=f"bench {now:%Y-%m-%d %H:%M:%S}", actor=owner)
    return agent.pk, secret


def point_provider_at(upstream_url: str) -> None:
    from agents.models import LLMProvider

    LLMProvider.objects.filter(name="bench-upstream").update(base_url=upstream_url)


def queries_per_invoke(agent_id: int, secret: str, show: bool) -> int:
    """Queries of one steady-state API invoke (the second call: the key's last_used_at is fresh by then)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    path = f"/api/v1/agents/{agent_id}/invoke"
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {secret}"}
    body = json.dumps({"input": "How many queries?"})
    first = client.post(path, body, content_type="application/json", **headers)
    if first.status_code != 200:
        raise SystemExit(f"in-process invoke failed: {first.status_code} {first.content[:500]!r}")
    with CaptureQueriesContext(connection) as captured:
        client.post(path, body, content_type="application/json", **headers)
    if show:
        for number, query in enumerate(captured.captured_queries, 1):
            print(f"    {number:2}. {query['time']}s  {query['sql'][:200]}")
    connection.close()
    return len(captured)


async def drive(
    url: str, body: dict, headers: dict, concurrency: int, duration: float, warmup: float, pids: list[int] = ()
) -> Run:
    """`concurrency` clients in closed loops (each sends its next request when the last one answered)."""
    import aiohttp

    latencies: list[float] = []
    errors: Counter = Counter()
    cpu: list[float] = []
    payload = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **headers}
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.perf_counter()
        measure_from = started + warmup
        stop_at = measure_from + duration

        async def client() -> None:
            while time.perf_counter() < stop_at:
                began = time.perf_counter()
                try:
                    async with session.post(url, data=payload, headers=headers) as response:
                        await response.read()
                        status = response.status
                except (TimeoutError, aiohttp.ClientError) as exc:
                    status = type(exc).__name__
                end = time.perf_counter()
                if not measure_from <= end <= stop_at:
                    continue  # only answers that arrive inside the measured window count
                if status == 200:
                    latencies.append((end - began) * 1000)
                else:
                    errors[status] += 1

        async def cpu_meter() -> None:
            for moment in (measure_from, stop_at):
                await asyncio.sleep(max(0.0, moment - time.perf_counter()))
                cpu.append(cpu_seconds(pids))

        await asyncio.gather(cpu_meter(), *(client() for _ in range(concurrency)))
    return Run(latencies, errors, duration, cpu[1] - cpu[0] if len(cpu) == 2 else 0.0)


def print_run(label: str, run: Run) -> None:
    errors = f", errors {dict(run.errors)}" if run.errors else ""
    print(
        f"  {label:<9} {run.rps:8.1f} req/s   p50 {run.percentile(50):7.1f} ms   "
        f"p95 {run.percentile(95):7.1f} ms   p99 {run.percentile(99):7.1f} ms   (n={len(run.latencies)}{errors})"
    )


def run_scenario(scenario: Scenario, args, env: dict[str, str], agent_id: int, secret: str) -> None:
    print(f"\n== {scenario.concurrency} in flight, upstream latency {scenario.latency_ms} ms, {args.duration:g} s ==")
    upstream, upstream_url = start_upstream(scenario.latency_ms)
    server = None
    try:
        point_provider_at(upstream_url)
        completion = {"model": MODEL, "messages": [{"role": "user", "content": "Answer briefly: hello"}]}
        upstream_run = asyncio.run(
            drive(
                f"{upstream_url}/chat/completions",
                completion,
                {"Authorization": "Bearer sk-bench"},
                scenario.concurrency,
                args.duration,
                args.warmup,
            )
        )
        server, app_url = start_server(env, args.workers)
        app_run = asyncio.run(
            drive(
                f"{app_url}/api/v1/agents/{agent_id}/invoke",
                {"input": "hello"},
                {"Authorization": f"Api-Key {secret}"},
                scenario.concurrency,
                args.duration,
                args.warmup,
                children(server.pid),
            )
        )
    finally:
        if server is not None:
            stop(server)
        stop(upstream)

    print_run("upstream", upstream_run)
    print_run("app", app_run)
    overhead = {p: app_run.percentile(p) - upstream_run.percentile(p) for p in (50, 95, 99)}
    cpu_per_request = app_run.cpu * 1000 / max(len(app_run.latencies) + sum(app_run.errors.values()), 1)
    print(
        f"  app CPU   {cpu_per_request:.1f} ms per invoke (server workers, user+system) — "
        f"{args.workers} cores could serve at most {1000 * args.workers / cpu_per_request:.0f} req/s"
    )
    print(f"  overhead  p50 {overhead[50]:7.1f} ms   p95 {overhead[95]:7.1f} ms   p99 {overhead[99]:7.1f} ms")
    bound = scenario.concurrency / (upstream_run.percentile(50) / 1000)
    nominal = scenario.concurrency / (scenario.latency_ms / 1000)
    print(
        f"  Little's law bound N/latency: {bound:.1f} req/s (measured upstream p50; {nominal:.1f} at the nominal "
        f"{scenario.latency_ms} ms) — achieved {app_run.rps / bound:.1%} ({app_run.rps / nominal:.1%} of nominal)"
    )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("-d", "--duration", type=float, default=10.0, help="measured seconds per scenario")
    parser.add_argument("--warmup", type=float, default=5.0, help="unmeasured seconds before each measurement")
    parser.add_argument("-c", "--concurrency", type=int, help="requests in flight (one scenario instead of the two)")
    parser.add_argument("-l", "--latency-ms", type=int, help="upstream latency (with --concurrency)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers (make run: WEB_CONCURRENCY=2)")
    parser.add_argument("--db-pool", type=int, default=20, help="DATABASE_POOL_MAX_SIZE per worker (make run: 20)")
    parser.add_argument("--show-queries", action="store_true", help="list the SQL of one invoke")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.concurrency:
        scenarios = [Scenario(args.concurrency, args.latency_ms if args.latency_ms is not None else 20)]
    else:
        scenarios = [
            Scenario(c, args.latency_ms if args.latency_ms is not None else lat) for c, lat in DEFAULT_SCENARIOS
        ]

    ensure_database(args.database_url)
    env = app_environment(args)
    migrate(env)
    setup_django(env)

    upstream, upstream_url = start_upstream(5)
    try:
        agent_id, secret = seed(upstream_url)
        count = queries_per_invoke(agent_id, secret, args.show_queries)
    finally:
        stop(upstream)
    print(f"bench database {args.database_url}; gunicorn, {args.workers} uvicorn workers (make run's settings)")
    print(f"SQL queries per invoke (steady state, API key auth): {count}")
    for scenario in scenarios:
        run_scenario(scenario, args, env, agent_id, secret)


if __name__ == "__main__":
    main()
