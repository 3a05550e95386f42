"""CPU per invoke, in-process: the figure that means the same on a busy machine. Prints; asserts nothing.

    python -m bench.cpu                     # REST invoke and the OpenAI endpoint, 300 calls each
    python -m bench.cpu -n 1000 --profile   # and a pyinstrument profile of the REST invoke

Drives the project's ASGI application (`botgeneric.asgi.application`, what `make run` serves: same
middleware, same settings, DEBUG off, pooled PostgreSQL connections, the cache of REDIS_URL, each
request's synchronous work on its reused thread) in this process with plain ASGI messages, against
the fake OpenAI upstream running in a process of its own (0 ms latency), and divides this process's
`time.process_time()` by the number of calls. No HTTP parsing or server loop is counted (uvicorn adds
~0.3 ms per request); everything Django, DRF, the policy, the ORM and the openai SDK do is. The last
lines list the SQL statements of one steady-state invoke (`--show-queries`: their text, and each one's
round trip replayed with and without a prepared statement).
"""

import argparse
import asyncio
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.invoke import (  # noqa: E402  (the path above first)
    DEFAULT_DATABASE_URL,
    MODEL,
    app_environment,
    ensure_database,
    migrate,
    seed,
    setup_django,
    start_upstream,
    stop,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("-n", "--calls", type=int, default=300, help="measured calls per endpoint")
    parser.add_argument("--db-pool", type=int, default=20)
    parser.add_argument("--profile", action="store_true", help="pyinstrument profile of the REST invoke")
    parser.add_argument(
        "--show-queries", action="store_true", help="list the SQL of one invoke and time each statement's round trip"
    )
    parser.add_argument("--no-scale", action="store_true", help="skip the two reference figures")
    return parser.parse_args(argv)


@dataclass
class Answer:
    status_code: int
    content: bytes


class ASGIClient:
    """Requests straight into an ASGI application, as a server hands them over (no HTTP parsing)."""

    def __init__(self, application):
        self.application = application

    async def request(self, method: str, path: str, body: bytes = b"", headers: dict | None = None) -> Answer:
        raw_headers = [(b"host", b"testserver"), (b"content-type", b"application/json")]
        raw_headers.append((b"content-length", str(len(body)).encode()))
        raw_headers += [(name.lower().encode(), value.encode()) for name, value in (headers or {}).items()]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": raw_headers,
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
        }
        done = asyncio.Event()
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        answer = Answer(0, b"")

        async def receive():
            if messages:
                return messages.pop()
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message):
            if message["type"] == "http.response.start":
                answer.status_code = message["status"]
            elif message["type"] == "http.response.body":
                answer.content += message.get("body", b"")
                if not message.get("more_body"):
                    done.set()

        await self.application(scope, receive, send)
        done.set()
        return answer

    async def post(self, path: str, payload: str, headers: dict) -> Answer:
        return await self.request("POST", path, payload.encode(), headers)

    async def get(self, path: str) -> Answer:
        return await self.request("GET", path)


async def _calls(client, path: str, body: dict, headers: dict, count: int) -> None:
    payload = json.dumps(body)
    for _ in range(count):
        response = await client.post(path, payload, headers)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}: {response.content[:300]!r}")


def measure(client, path: str, body: dict, headers: dict, count: int) -> float:
    """ms of this process's CPU per call, after a warm-up of 30 calls."""
    asyncio.run(_calls(client, path, body, headers, 30))
    began = time.process_time()
    asyncio.run(_calls(client, path, body, headers, count))
    return (time.process_time() - began) * 1000 / count


async def _gets(client, path: str, count: int) -> None:
    for _ in range(count):
        response = await client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")


async def _provider_calls(agent_id: int, count: int) -> None:
    """The runtime's upstream call alone, as an invoke makes it (the openai SDK and its HTTP client)."""
    from asgiref.sync import sync_to_async

    from agents import runtime
    from agents.selectors import access_agent

    call = await sync_to_async(
        lambda: runtime.prepare(agent=access_agent(agent_id=agent_id), input="hello", variables={}, history=[])
    )()
    for _ in range(count):
        async for _piece in runtime.UpstreamStream(call):
            pass


def per_call(run, count: int) -> float:
    """ms of this process's CPU per call of `run(count)`, after a warm-up of 30."""
    asyncio.run(run(30))
    began = time.process_time()
    asyncio.run(run(count))
    return (time.process_time() - began) * 1000 / count


def statement_times(database_url: str, statements: list[str], count: int = 300) -> None:
    """Each statement of one invoke run `count` times on a connection of its own (autocommit, as the
    invoke runs them), parsed and planned every time, then prepared: the round trip and PostgreSQL's
    own work, which shares the machine's cores with the server. `SELECT 1` for the bare round trip."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        print(f"  each statement's round trip, mean of {count} runs (not prepared -> prepared):")
        for sql in [*statements, "SELECT 1"]:
            means = []
            for prepare in (False, True):
                began = time.perf_counter()
                for _ in range(count):
                    connection.execute(sql.replace("%", "%%"), prepare=prepare)
                means.append((time.perf_counter() - began) * 1000 / count)
            print(f"    {means[0]:6.3f} -> {means[1]:6.3f} ms  {sql[:80]}")


def main(argv=None) -> None:
    args = parse_args(argv)
    ensure_database(args.database_url)
    env = app_environment(args)
    env["CONN_MAX_AGE"] = "0"  # as `make run` serves
    migrate(env)
    setup_django(env)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from botgeneric.asgi import application

    upstream, upstream_url = start_upstream(0)
    try:
        agent_id, secret = seed(upstream_url)
        client = ASGIClient(application)
        rest = (f"/api/v1/agents/{agent_id}/invoke", {"input": "hello"}, {"Authorization": f"Api-Key {secret}"})
        chat = (
            "/api/v1/openai/chat/completions",
            {"model": "bench-echo", "messages": [{"role": "user", "content": "hello"}]},
            {"Authorization": f"Bearer {secret}"},
        )
        print(f"bench database {args.database_url}; model {MODEL}; {args.calls} calls each")
        for label, (path, body, headers) in (("REST invoke", rest), ("OpenAI endpoint", chat)):
            print(f"  {label:<16} {measure(client, path, body, headers, args.calls):6.2f} ms CPU per call")
        if not args.no_scale:
            # For scale: what Django alone costs for a request with one query through the same middleware,
            # and what the provider call alone costs; an invoke is both plus deciding and metering.
            healthz = per_call(lambda count: _gets(client, "/healthz", count), args.calls)
            provider = per_call(lambda count: _provider_calls(agent_id, count), args.calls)
            print(f"  for scale: GET /healthz (Django, one query) {healthz:6.2f} ms CPU per call")
            print(f"             the provider call alone        {provider:6.2f} ms CPU per call")
        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
            profiler.start()
            asyncio.run(_calls(client, *rest, args.calls))
            profiler.stop()
            print(profiler.output_text(unicode=True, color=False, show_all=False))
        # Counted through the sync test client: its view code runs in this thread, on this connection.
        path, body, headers = rest
        with CaptureQueriesContext(connection) as captured:
            Client().post(path, json.dumps(body), content_type="application/json", headers=headers)
        print(f"  SQL statements per REST invoke (steady state): {len(captured)}")
        if args.show_queries:
            for number, query in enumerate(captured.captured_queries, 1):
                print(f"    {number:2}. {query['sql'][:160]}")
            statement_times(args.database_url, [query["sql"] for query in captured.captured_queries])
    finally:
        stop(upstream)


if __name__ == "__main__":
    main()
