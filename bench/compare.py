"""Side by side, in one run: the fake upstream directly, LiteLLM proxy, our REST invoke and our OpenAI endpoint,
driven by the same load generator. Prints one table; asserts nothing.

    python -m bench.compare                 # c=1 and c=32 at 0 and 50 ms upstream, then 200 x 500 ms
    python -m bench.compare -d 5 --no-crowd

LiteLLM is the gateway our customers would otherwise put in front of their models. It is installed into its
own virtualenv under `--work-dir` (bench/.work, not the project's .venv; pip fetches it from PyPI on the
first run) and run as `litellm --config … --num_workers N` (`--litellm-workers`, 1: on this machine its
workers died silently at start with 2), one model pointing at the fake upstream, and a per-key rpm / tpm /
budget limit whose counters live in Redis (`general_settings.coordination_redis`, REDIS_URL's database).
LiteLLM keeps virtual keys in a database
it reaches through Prisma, whose engines are downloaded at run time (not possible here), so the key is
issued by a custom auth hook (`custom_auth`, LiteLLM's documented hook) carrying those limits: LiteLLM's
own rate limiter then counts them in Redis on every call, as it does for a virtual key.

Beside them, the floor (`bench/floor.py`): the project's middleware, a DRF async view, one SQL statement
before the upstream call and one after it, the call through the openai SDK as the runtime makes it — what
any invoke costs in this project's shape before deciding or metering anything. Served by a second server
with the same command (`bench.floor_settings`), so the gap between it and our endpoints is our own code.

Our two endpoints are served exactly as `make run` serves them (gunicorn, 2 uvicorn workers, PostgreSQL pool
of 20 per worker, REDIS_URL as cache), the agent metered and decided by the policy on every call. The CPU
per request is the servers' own (workers' user + system time from /proc), so it means the same on a busy
machine; req/s and latencies do not, unless the machine is otherwise idle.
"""

import argparse
import asyncio
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.invoke import (  # noqa: E402  (the path above first)
    AGENT_SLUG,
    DEFAULT_DATABASE_URL,
    MODEL,
    Run,
    app_environment,
    children,
    drive,
    ensure_database,
    floor_path,
    free_port,
    migrate,
    point_provider_at,
    seed,
    setup_django,
    start_floor_server,
    start_server,
    start_upstream,
    stop,
    wait_for_port,
)

LITELLM_VERSION = "1.100.5"
# What any invoke costs in this project's shape (Django, DRF, two SQL statements, the openai SDK): bench/floor.py.
FLOOR = "floor: Django + DRF + SDK"
LITELLM_KEY = "sk-bench-" + "0" * 24
# The per-key limits LiteLLM enforces on every call: far above what the benchmark sends, so they cost their
# bookkeeping and never refuse.
KEY_LIMITS = {"rpm_limit": 1_000_000, "tpm_limit": 1_000_000_000, "max_budget": 1_000_000.0}
CUSTOM_AUTH = f'''"""The benchmark's one LiteLLM key, with per-key limits (written by bench/compare.py)."""
from fastapi import HTTPException
from litellm.proxy._types import UserAPIKeyAuth


async def user_api_key_auth(request, api_key: str) -> UserAPIKeyAuth:
    if api_key != {LITELLM_KEY!r}:
        raise HTTPException(status_code=401, detail="invalid key")
    return UserAPIKeyAuth(api_key=api_key, token="bench-key", spend=0.0, **{KEY_LIMITS!r})
'''


@dataclass
class Row:
    latency_ms: int
    system: str
    single: Run | None = None
    many: Run | None = None
    crowd: Run | None = None


def litellm_python(work_dir: Path, version: str) -> Path:
    """The virtualenv with LiteLLM's proxy, made on first use."""
    venv = work_dir / f"litellm-{version}"
    python = venv / "bin" / "python"
    if not (venv / ".installed").exists():
        print(f"installing litellm[proxy]=={version} into {venv} (first run only)")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", f"litellm[proxy]=={version}"], check=True)
        (venv / ".installed").touch()
    return python


def start_litellm(python: Path, work_dir: Path, upstream_url: str, redis_url: str, workers: int):
    config_dir = work_dir / "litellm-config"
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "bench_auth.py").write_text(CUSTOM_AUTH)
    config = config_dir / "config.yaml"
    config.write_text(
        f"""model_list:
  - model_name: {MODEL}
    litellm_params:
      model: openai/{MODEL}
      api_base: {upstream_url}
      api_key: sk-upstream
general_settings:
  master_key: sk-master-{secrets.token_hex(8)}
  custom_auth: bench_auth.user_api_key_auth
  custom_auth_run_common_checks: true
  coordination_redis:
    url: {redis_url}
litellm_settings:
  telemetry: false
  drop_params: true
"""
    )
    port = free_port()
    env = {
        **os.environ,
        "LITELLM_LOG": "ERROR",
        "LITELLM_TELEMETRY": "False",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no fetch of the price list from the internet
        "PYTHONPATH": str(config_dir),
    }
    env.pop("DATABASE_URL", None)  # no virtual-key database: the key comes from the auth hook
    process = subprocess.Popen(
        [
            str(python),
            "-m",
            "litellm.proxy.proxy_cli",
            "--config",
            str(config),
            "--port",
            str(port),
            "--num_workers",
            str(workers),
        ],
        cwd=config_dir,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    wait_for_port(port, process, timeout=300)
    url = f"http://127.0.0.1:{port}"
    _wait_until_answering(f"{url}/v1/chat/completions", process)
    return process, url


def _wait_until_answering(url: str, process: subprocess.Popen, timeout: float = 180) -> None:
    import json
    import urllib.error
    import urllib.request

    body = json.dumps({"model": MODEL, "messages": [{"role": "user", "content": "ready?"}]}).encode()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"litellm exited with {process.returncode}")
        request = urllib.request.Request(
            url, body, {"Content-Type": "application/json", "Authorization": f"Bearer {LITELLM_KEY}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.HTTPError):
            time.sleep(1)
    raise SystemExit(f"litellm did not answer {url} within {timeout} s")


def run(target: tuple, concurrency: int, args, pids=()) -> Run:
    url, body, headers = target
    return asyncio.run(drive(url, body, headers, concurrency, args.duration, args.warmup, list(pids)))


def cpu_ms(run: Run) -> float:
    requests = len(run.latencies) + sum(run.errors.values())
    return run.cpu * 1000 / requests if requests and run.cpu else float("nan")


def scenario(latency_ms: int, args, env, agent_id: int, secret: str, python: Path | None, table: bool) -> list[Row]:
    print(f"\n== upstream latency {latency_ms} ms", flush=True)
    upstream, upstream_url = start_upstream(latency_ms)
    server = floor = litellm = None
    try:
        point_provider_at(upstream_url)
        server, app_url = start_server(env, args.workers)
        floor, floor_url = start_floor_server(env, args.workers)
        chat = {"model": MODEL, "messages": [{"role": "user", "content": "Answer briefly: hello"}]}
        targets = {
            "direct to upstream": ((f"{upstream_url}/chat/completions", chat, {}), lambda: []),
            "bot-generic REST invoke": (
                (
                    f"{app_url}/api/v1/agents/{agent_id}/invoke",
                    {"input": "hello"},
                    {"Authorization": f"Api-Key {secret}"},
                ),
                lambda: children(server.pid),
            ),
            "bot-generic OpenAI endpoint": (
                (
                    f"{app_url}/api/v1/openai/chat/completions",
                    {"model": AGENT_SLUG, "messages": [{"role": "user", "content": "hello"}]},
                    {"Authorization": f"Bearer {secret}"},
                ),
                lambda: children(server.pid),
            ),
            FLOOR: (
                (
                    f"{floor_url}{floor_path(agent_id)}",
                    {"input": "hello"},
                    {"Authorization": f"Api-Key {secret}"},
                ),
                lambda: children(floor.pid),
            ),
        }
        if python is not None:
            litellm, litellm_url = start_litellm(
                python, args.work_dir, upstream_url, args.redis_url, args.litellm_workers
            )
            targets["LiteLLM proxy"] = (
                (f"{litellm_url}/v1/chat/completions", chat, {"Authorization": f"Bearer {LITELLM_KEY}"}),
                lambda: children(litellm.pid) or [litellm.pid],
            )
        rows = []
        for system, (target, pids) in targets.items():
            row = Row(latency_ms, system)
            rows.append(row)
            if not table:
                continue
            row.single = run(target, 1, args, pids())
            row.many = run(target, 32, args, pids())
            print(
                f"  {system:<28} c=1 p50 {row.single.percentile(50):6.1f} ms   c=32 {row.many.rps:7.1f} req/s   "
                f"CPU {cpu_ms(row.many):.1f} ms/request",
                flush=True,
            )
        if args.crowd and latency_ms == args.crowd_latency:
            for row in rows:
                if row.system != "bot-generic OpenAI endpoint":
                    target, pids = targets[row.system]
                    row.crowd = run(target, args.crowd, args, pids())
                    print(f"  {row.system:<28} c={args.crowd} {row.crowd.rps:7.1f} req/s", flush=True)
        return rows
    finally:
        for process in (server, floor, litellm, upstream):
            if process is not None:
                stop(process)


def print_table(rows: list[Row], args) -> None:
    print("\n| upstream | system | c=1 overhead p50 | c=32 req/s | c=32 vs LiteLLM | c=32 of direct | CPU/request |")
    print("|---|---|---|---|---|---|---|")
    for latency in sorted({row.latency_ms for row in rows if row.single is not None}):
        group = [row for row in rows if row.latency_ms == latency]
        direct = next(row for row in group if row.system == "direct to upstream")
        peer = next((row for row in group if row.system == "LiteLLM proxy"), None)
        for row in group:
            overhead = row.single.percentile(50) - direct.single.percentile(50)
            versus = f"{row.many.rps / peer.many.rps:.2f}×" if peer and peer.many.rps else "—"
            errors = sum(row.single.errors.values()) + sum(row.many.errors.values())
            print(
                f"| {latency} ms | {row.system}{f' ({errors} errors)' if errors else ''} | "
                f"{'—' if row is direct else f'{overhead:.1f} ms'} | {row.many.rps:.0f} | "
                f"{'—' if row is direct or row is peer else versus} | {row.many.rps / direct.many.rps:.0%} | "
                f"{'—' if row is direct else f'{cpu_ms(row.many):.1f} ms'} |"
            )
    crowd = [row for row in rows if row.crowd is not None]
    if crowd:
        bound = args.crowd / (args.crowd_latency / 1000)
        print(f"\n{args.crowd} in flight, upstream {args.crowd_latency} ms (bound N / latency = {bound:.0f} req/s):")
        for row in crowd:
            errors = f", errors {dict(row.crowd.errors)}" if row.crowd.errors else ""
            print(
                f"  {row.system:<28} {row.crowd.rps:7.1f} req/s ({row.crowd.rps / bound:.0%} of the bound), "
                f"p50 {row.crowd.percentile(50):.0f} ms, p99 {row.crowd.percentile(99):.0f} ms{errors}"
            )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--work-dir", type=Path, default=ROOT / "bench" / ".work")
    parser.add_argument("--litellm-version", default=LITELLM_VERSION)
    parser.add_argument("--no-litellm", action="store_true", help="our endpoints and the upstream only")
    parser.add_argument("-d", "--duration", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds before each run")
    parser.add_argument("--latencies", default="0,50", help="upstream latencies in ms")
    parser.add_argument("--crowd", type=int, default=200, help="in flight for the slow-upstream run (0 = none)")
    parser.add_argument("--no-crowd", dest="crowd", action="store_const", const=0)
    parser.add_argument("--crowd-latency", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2, help="our server's workers (make run: 2)")
    parser.add_argument(
        "--litellm-workers", type=int, default=1, help="LiteLLM's --num_workers (its workers died at start with 2 here)"
    )
    parser.add_argument("--db-pool", type=int, default=20)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    python = None if args.no_litellm else litellm_python(args.work_dir, args.litellm_version)
    ensure_database(args.database_url)
    env = app_environment(args)
    env["REDIS_URL"] = args.redis_url
    migrate(env)
    setup_django(env)
    agent_id, secret = seed("http://127.0.0.1:9/v1")
    latencies = [int(value) for value in args.latencies.split(",")]
    if args.crowd and args.crowd_latency not in latencies:
        latencies.append(args.crowd_latency)
    print(f"bench database {args.database_url}; Redis {args.redis_url}; {os.cpu_count()} cores; {time.ctime()}")
    requested = {int(value) for value in args.latencies.split(",")}
    rows = []
    for latency in latencies:
        rows += scenario(latency, args, env, agent_id, secret, python, table=latency in requested)
    print_table(rows, args)


if __name__ == "__main__":
    main()
