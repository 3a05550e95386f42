"""Streaming benchmark: `POST /api/v1/agents/{id}/invoke` with `"stream": true`, served as `make run` serves it
(gunicorn + uvicorn workers, pooled PostgreSQL connections), against a fake OpenAI upstream that streams.
Prints figures; asserts nothing.

    python -m bench.stream                  # all three parts
    python -m bench.stream --streams 200    # a smaller crowd in part 2

1. Time to first byte: the time to the first `delta` event at the client, p50/p95, with 1 and 32 streams
   in flight (closed loops), next to the upstream's own time to its first content chunk measured the same
   way against the fake directly. The difference is what the app adds. The floor (bench/floor.py: Django,
   DRF, two SQL statements and the openai SDK, none of our deciding or metering) is measured beside it.
2. A crowd: `--streams` (1,000) concurrent streams of about 10 s each, all opened at once: how many ended
   without their `done` event (errors), how long they took next to the upstream's own pace, and the peak
   total RSS of the server (gunicorn master + workers); then the same crowd on the floor.
3. Disconnect: a client reads three deltas and hangs up; the time until the upstream sees its connection
   closed (the fake runs in this process for this part, so both instants are on one clock).
"""

import argparse
import asyncio
import contextlib
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.invoke import (  # noqa: E402  (the path above first)
    DEFAULT_DATABASE_URL,
    MODEL,
    app_environment,
    children,
    cpu_seconds,
    ensure_database,
    floor_path,
    free_port,
    migrate,
    point_provider_at,
    seed,
    setup_django,
    start_floor_server,
    start_server,
    stop,
    wait_for_port,
)

FIRST_TOKEN_MS = 200  # the upstream's own wait before its first chunk
QUICK_WORD_MS = 30  # between words, for the time-to-first-byte runs
CROWD_WORD_MS = 240  # between words, so a crowd stream (about 42 words) lasts about 10 s
CROWD_REPLY_CHARS = 250
FIRST_TEXT = re.compile(rb'^event: delta|^data: .*"content": "[^"]')  # the app's first delta; the upstream's first text


@dataclass
class Streams:
    first_byte_ms: list[float] = field(default_factory=list)
    total_ms: list[float] = field(default_factory=list)
    errors: dict = field(default_factory=dict)

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def start_upstream(word_ms: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "testing.fakes.openai_upstream",
            "--port",
            str(port),
            "--latency-ms",
            str(FIRST_TOKEN_MS),
            "--token-delay-ms",
            str(word_ms),
        ],
        cwd=ROOT,
    )
    wait_for_port(port, process)
    return process, f"http://127.0.0.1:{port}/v1"


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


async def one_stream(session, url: str, body: dict, headers: dict, streams: Streams, *, upstream: bool) -> None:
    """One streamed call; records the time to its first piece of text and to its end."""
    import aiohttp

    began = time.perf_counter()
    first = None
    done = False
    try:
        async with session.post(url, json=body, headers=headers) as response:
            if response.status != 200:
                streams.error(str(response.status))
                await response.read()
                return
            async for line in response.content:
                if first is None and FIRST_TEXT.search(line):
                    first = time.perf_counter()
                if line.startswith((b"event: done", b"data: [DONE]")):
                    done = True
    except (TimeoutError, aiohttp.ClientError) as exc:
        streams.error(type(exc).__name__)
        return
    if not done or first is None:
        streams.error("ended without done" if not upstream else "ended without [DONE]")
        return
    streams.first_byte_ms.append((first - began) * 1000)
    streams.total_ms.append((time.perf_counter() - began) * 1000)


async def closed_loops(url, body, headers, concurrency: int, duration: float, *, upstream: bool) -> Streams:
    import aiohttp

    streams = Streams()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as session:
        stop_at = time.perf_counter() + duration

        async def loop() -> None:
            while time.perf_counter() < stop_at:
                await one_stream(session, url, body, headers, streams, upstream=upstream)

        await asyncio.gather(*(loop() for _ in range(concurrency)))
    return streams


async def crowd(url, body, headers, count: int, server_pids) -> tuple[Streams, float, float]:
    """`count` streams opened at once; the peak RSS of the server while they run, and the wall time."""
    import aiohttp

    streams = Streams()
    peak = [rss_mb(server_pids())]
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=180)) as session:
        began = time.perf_counter()
        calls = asyncio.gather(
            *(one_stream(session, url, body, headers, streams, upstream=False) for _ in range(count))
        )
        while not calls.done():
            await asyncio.wait([calls], timeout=0.5)
            peak.append(rss_mb(server_pids()))
        await calls
        wall = time.perf_counter() - began
    return streams, max(peak), wall


def print_streams(label: str, streams: Streams) -> None:
    errors = f", errors {streams.errors}" if streams.errors else ""
    print(
        f"  {label:<10} first byte p50 {percentile(streams.first_byte_ms, 50):7.1f} ms   "
        f"p95 {percentile(streams.first_byte_ms, 95):7.1f} ms   whole stream p50 "
        f"{percentile(streams.total_ms, 50):7.1f} ms   (n={len(streams.first_byte_ms)}{errors})"
    )


def part_first_byte(args, env, agent_id: int, secret: str) -> None:
    print(
        f"\n== 1. time to first byte (upstream: first chunk after {FIRST_TOKEN_MS} ms, a word every {QUICK_WORD_MS} ms)"
    )
    upstream, upstream_url = start_upstream(QUICK_WORD_MS)
    server = floor = None
    try:
        point_provider_at(upstream_url)
        server, app_url = start_server(env, args.workers)
        floor, floor_url = start_floor_server(env, args.workers)
        floor_url = f"{floor_url}{floor_path(agent_id)}"
        completion = {
            "model": MODEL,
            "messages": [{"role": "user", "content": "Answer briefly: hello there"}],
            "stream": True,
        }
        app_url = f"{app_url}/api/v1/agents/{agent_id}/invoke"
        app_body, app_headers = {"input": "hello there", "stream": True}, {"Authorization": f"Api-Key {secret}"}
        for url in (app_url, floor_url):  # warm the workers
            asyncio.run(closed_loops(url, app_body, app_headers, 4, args.warmup, upstream=False))
        direct_url = f"{upstream_url}/chat/completions"
        for concurrency in (1, 32):
            direct = asyncio.run(closed_loops(direct_url, completion, {}, concurrency, args.duration, upstream=True))
            print(f" {concurrency} in flight:")
            print_streams("upstream", direct)
            for label, process, url, headers in (
                ("app", server, app_url, app_headers),
                ("floor", floor, floor_url, app_headers),
            ):
                cpu_before = cpu_seconds(children(process.pid))
                app = asyncio.run(closed_loops(url, app_body, headers, concurrency, args.duration, upstream=False))
                cpu = (cpu_seconds(children(process.pid)) - cpu_before) * 1000 / max(1, len(app.first_byte_ms))
                print_streams(label, app)
                overhead = percentile(app.first_byte_ms, 50) - percentile(direct.first_byte_ms, 50)
                print(
                    f"  {label} adds {overhead:7.1f} ms to the first byte (p50); {cpu:.1f} ms of worker CPU per stream"
                )
    finally:
        for process in (server, floor):
            if process is not None:
                stop(process)
        stop(upstream)


def part_crowd(args, env, agent_id: int, secret: str) -> None:
    print(f"\n== 2. {args.streams} concurrent streams of about 10 s (a word every {CROWD_WORD_MS} ms)")
    upstream, upstream_url = start_upstream(CROWD_WORD_MS)
    try:
        point_provider_at(upstream_url)
        for label, start, path in (
            ("app", start_server, f"/api/v1/agents/{agent_id}/invoke"),
            ("floor", start_floor_server, floor_path(agent_id)),
        ):
            print(f" {label}:")
            _crowd_of(args, env, start, path, secret)
    finally:
        stop(upstream)


def _crowd_of(args, env, start, path: str, secret: str) -> None:
    server = None
    try:
        server, app_url = start(env, args.workers)

        def server_pids() -> list[int]:
            return [server.pid, *children(server.pid)]

        body = {"input": f"a long story REPLY_CHARS={CROWD_REPLY_CHARS}", "stream": True}
        url = f"{app_url}{path}"
        headers = {"Authorization": f"Api-Key {secret}"}
        asyncio.run(closed_loops(url, {"input": "warm up", "stream": True}, headers, 4, 2, upstream=False))
        idle = rss_mb(server_pids())
        streams, peak, wall = asyncio.run(crowd(url, body, headers, args.streams, server_pids))
    finally:
        if server is not None:
            stop(server)
    errors = sum(streams.errors.values())
    print(f"  completed {len(streams.total_ms)}, errors {errors} {streams.errors or ''}")
    print(
        f"  stream duration p50 {percentile(streams.total_ms, 50) / 1000:.2f} s   p99 "
        f"{percentile(streams.total_ms, 99) / 1000:.2f} s   max {max(streams.total_ms, default=0) / 1000:.2f} s   "
        f"(all {args.streams} within {wall:.1f} s)"
    )
    first_byte = streams.first_byte_ms
    print(f"  first byte p50 {percentile(first_byte, 50):.0f} ms   p99 {percentile(first_byte, 99):.0f} ms")
    print(f"  server RSS (master + {args.workers} workers): {idle:.0f} MB idle, {peak:.0f} MB peak")


def part_disconnect(args, env, agent_id: int, secret: str) -> None:
    print("\n== 3. client disconnect -> upstream connection closed")
    from testing.fakes.openai_upstream import FakeOpenAI

    fake = FakeOpenAI(latency_ms=50, token_delay_ms=100, record=False).start()
    server = None
    closed_after = []
    try:
        point_provider_at(fake.base_url)
        server, app_url = start_server(env, args.workers)
        import httpx2 as httpx

        with httpx.Client(timeout=30) as client:
            for _ in range(args.disconnects):
                with client.stream(
                    "POST",
                    f"{app_url}/api/v1/agents/{agent_id}/invoke",
                    json={"input": "REPLY_CHARS=250", "stream": True},
                    headers={"Authorization": f"Api-Key {secret}"},
                ) as response:
                    deltas = 0
                    for line in response.iter_lines():
                        deltas += line.startswith("event: delta")
                        if deltas == 3:
                            break
                    hung_up = time.monotonic()
                    seen = len(fake.streams)
                if not fake.wait_closed(timeout=5):
                    closed_after.append(float("inf"))
                    continue
                ended = fake.streams[seen - 1]["ended_at"]
                closed_after.append((ended - hung_up) * 1000)
                fake.reset()
                fake.token_delay_ms, fake.latency_ms = 100, 50
    finally:
        if server is not None:
            stop(server)
        fake.stop()
    print(
        f"  {len(closed_after)} disconnects after three deltas: upstream closed p50 "
        f"{statistics.median(closed_after):.1f} ms, max {max(closed_after):.1f} ms after the client hung up"
    )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("-d", "--duration", type=float, default=10.0, help="measured seconds per first-byte run")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers (make run: WEB_CONCURRENCY=2)")
    parser.add_argument("--db-pool", type=int, default=20, help="DATABASE_POOL_MAX_SIZE (make run: 20)")
    parser.add_argument("--streams", type=int, default=1000, help="concurrent streams in part 2")
    parser.add_argument("--disconnects", type=int, default=10, help="disconnects measured in part 3")
    parser.add_argument("--parts", default="123", help="which parts to run, e.g. 13")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))  # children inherit it
    ensure_database(args.database_url)
    env = app_environment(args)
    migrate(env)
    setup_django(env)
    agent_id, secret = seed("http://127.0.0.1:9/v1")
    print(f"bench database {args.database_url}; gunicorn {args.workers} x uvicorn workers, pool {args.db_pool}")
    if "1" in args.parts:
        part_first_byte(args, env, agent_id, secret)
    if "2" in args.parts:
        part_crowd(args, env, agent_id, secret)
    if "3" in args.parts:
        part_disconnect(args, env, agent_id, secret)


if __name__ == "__main__":
    main()
