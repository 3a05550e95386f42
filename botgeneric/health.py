"""Probes: `/healthz` says the process is alive, `/readyz` says it can serve (database, cache, schema)."""

import logging
import secrets

from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import DatabaseError
from django.http import JsonResponse

logger = logging.getLogger(__name__)

READY_KEY = "readyz:probe"

_migrations_applied = False


def healthz(request):
    """Liveness with one database round trip; 503 when the database does not answer."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok"})


def readyz(request):
    """Readiness: 200 when the database answers, the cache keeps what is written to it and every
    migration is applied; otherwise 503 naming the failing parts, e.g. {"failing": ["cache"]}.

    The app itself runs through a cache outage (`botgeneric.cache`), so a load balancer can keep
    sending traffic; this probe is what tells the operator the cache is gone."""
    checks = {"database": _database(), "cache": _cache(), "migrations": _migrations()}
    failing = [name for name, state in checks.items() if state != "ok"]
    if failing:
        logger.error("not ready: %s", checks)
        return JsonResponse({"status": "unavailable", "failing": failing, "checks": checks}, status=503)
    return JsonResponse({"status": "ok", "checks": checks})


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return "unreachable"
    return "ok"


def _cache() -> str:
    token = secrets.token_hex(8)
    cache.set(READY_KEY, token, timeout=10)
    return "ok" if cache.get(READY_KEY) == token else "unreachable"


def _migrations() -> str:
    """Once every migration is applied the answer cannot change while this code runs, so it is kept."""
    global _migrations_applied
    if _migrations_applied:
        return "ok"
    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError:
        return "unknown"
    if pending:
        return f"{len(pending)} pending"
    _migrations_applied = True
    return "ok"
