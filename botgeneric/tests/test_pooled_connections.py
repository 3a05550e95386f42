"""With a connection pool (DATABASE_POOL_MAX_SIZE, as `make run` serves PostgreSQL), connections the server
closed while they sat in the pool (a restart, an idle timeout) are replaced before a request uses them,
without a round trip per checkout (botgeneric/postgresql/base.py). Through a real app server."""

import time

import pytest
import requests
from django.db import connection

from testing.app_servers import start_app_servers, stop_app_servers

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _server_connections() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [pid for (pid,) in cursor.fetchall()]


def test_pooled_connections_closed_by_the_server_are_replaced_before_a_request_uses_them():
    servers = start_app_servers(1, {"DATABASE_POOL_MAX_SIZE": "4"})
    try:
        ((_, url),) = servers
        for _ in range(5):
            assert requests.get(f"{url}/healthz", timeout=10).status_code == 200
        pooled = _server_connections()
        assert pooled  # the pool keeps its connections between requests
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", [pooled])
        time.sleep(0.3)  # PostgreSQL has told each pooled connection it is closing

        answers = [requests.get(f"{url}/healthz", timeout=10).status_code for _ in range(6)]

        assert answers == [200] * 6
        assert not set(_server_connections()) & set(pooled)
    finally:
        stop_app_servers(servers)
