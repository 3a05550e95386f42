"""Prometheus metrics: the metric objects, the few functions the apps call where things happen, and
the `/metrics` view.

Every label value comes from a bounded set (an agent's slug, a channel, an outcome, a deny code, a
provider, a task name), and the hot path only increments: no query, no lock beyond prometheus_client's.

Multiprocess mode: when PROMETHEUS_MULTIPROC_DIR is set before this module is imported (gunicorn.conf.py
sets it to a directory of its own for each server; a Celery worker does the same in botgeneric.celery),
each process writes its values to files there and `/metrics` sums them, so every worker of a server
answers with the same figures. Without it (runserver, tests) the process's own registry is served.
"""

import os
import secrets

from django.conf import settings
from django.http import Http404, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)

# The `_created` series say when each counter was first used in this process: noise once summed.
disable_created_metrics()

NO_AGENT = "-"
#: Seconds; an answer streams for a few seconds to minutes, a first token comes in well under ten.
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300)
FIRST_TOKEN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30)

CALLS = Counter("botgeneric_calls", "Agent calls, every channel, by outcome.", ["agent", "channel", "outcome"])
DENIALS = Counter("botgeneric_policy_denials", "Calls the policy refused (quota, rate, plan...).", ["code"])
TOKENS = Counter("botgeneric_tokens", "Tokens charged, by direction (in, out).", ["agent", "direction"])
UPSTREAM_LATENCY = Histogram(
    "botgeneric_upstream_latency_seconds",
    "Whole upstream call, first byte asked to last.",
    ["agent"],
    buckets=LATENCY_BUCKETS,
)
FIRST_TOKEN = Histogram(
    "botgeneric_time_to_first_token_seconds",
    "Upstream call start to its first text or tool call.",
    ["agent", "provider"],
    buckets=FIRST_TOKEN_BUCKETS,
)
WEBHOOK_EVENTS = Counter(
    "botgeneric_webhook_events", "Payment provider webhook events, by provider and outcome.", ["provider", "outcome"]
)
TASK_RUNS = Counter("botgeneric_task_runs", "Background task runs, by task and final state.", ["task", "state"])
BILLING_TICK = Histogram("botgeneric_billing_tick_seconds", "Duration of one billing tick (all due accounts).")


def agent_label(agent) -> str:
    return getattr(agent, "slug", "") or NO_AGENT


def observe_call(
    *, agent: str, channel: str, outcome: str, error_code: str, tokens_input: int, tokens_output: int, latency_ms: int
) -> None:
    """One metered call (usage.services, once its event is written)."""
    CALLS.labels(agent, channel, outcome).inc()
    if outcome == "denied":
        DENIALS.labels(error_code).inc()
        return
    if tokens_input:
        TOKENS.labels(agent, "in").inc(tokens_input)
    if tokens_output:
        TOKENS.labels(agent, "out").inc(tokens_output)
    if outcome == "ok" or latency_ms:  # an error before any upstream call took no time upstream
        UPSTREAM_LATENCY.labels(agent).observe(latency_ms / 1000)


def registry() -> CollectorRegistry:
    """The figures of every process of this server in multiprocess mode, else this process's own."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    combined = CollectorRegistry()
    multiprocess.MultiProcessCollector(combined)
    return combined


def authorized(header: str) -> bool:
    """`Authorization: Bearer <METRICS_TOKEN>`, compared in constant time; never with an empty token."""
    token = settings.METRICS_TOKEN
    scheme, _, given = header.partition(" ")
    return bool(token) and scheme.lower() == "bearer" and secrets.compare_digest(given.encode(), token.encode())


def metrics_view(request):
    """GET /metrics. 404 without the right bearer token (and always when METRICS_TOKEN is empty), so that
    the endpoint cannot be told apart from any unknown path."""
    if not authorized(request.headers.get("Authorization", "")):
        raise Http404
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
