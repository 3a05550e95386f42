"""Real app servers for tests that need more than one process: gunicorn with ASGI workers, as
production runs them, on the test database (the test must commit its data: a transactional test).

`start_app_servers(2, environment)` starts them and waits for /healthz; `stop_app_servers` ends them.
gunicorn reads the project's gunicorn.conf.py, as in production.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
#: Variables of the test process a server must not inherit: each test says what the servers share.
NOT_INHERITED = ("REDIS_URL", "OPENAI_API_KEY", "CELERY_BROKER_URL", "PROMETHEUS_MULTIPROC_DIR")


def database_url() -> str:
    """The URL of the database the tests run on (the test database once pytest-django created it)."""
    db = connection.settings_dict
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{host}/{db['NAME']}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_app_servers(
    count: int, environment: dict[str, str], *, workers: int = 1, healthz: int = 200
) -> list[tuple[subprocess.Popen, str]]:
    """`count` servers of `workers` worker processes each; `environment` is added to the test process's
    variables. A server is up when /healthz answers `healthz` (503: it runs without its database)."""
    base = {key: value for key, value in os.environ.items() if key not in NOT_INHERITED}
    # Connections closed after each request, as `make run` serves: many servers, one PostgreSQL.
    base.update(DJANGO_SETTINGS_MODULE="botgeneric.settings.test", DATABASE_URL=database_url(), CONN_MAX_AGE="0")
    base.update(environment)
    servers = []
    for _ in range(count):
        port = free_port()
        command = [sys.executable, "-m", "gunicorn", "botgeneric.asgi:application", "--bind", f"127.0.0.1:{port}"]
        command += [
            "--worker-class",
            "uvicorn_worker.UvicornWorker",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ]
        # A worker importing aiogram on its first Telegram update can hold its event loop for tens of
        # seconds on a loaded CI machine: longer than gunicorn's default 30 s heartbeat.
        command += ["--timeout", "120"]
        servers.append((subprocess.Popen(command, cwd=ROOT, env=base), f"http://127.0.0.1:{port}"))
    try:
        for process, url in servers:
            _wait_until_up(process, url, healthz)
    except BaseException:
        stop_app_servers(servers)
        raise
    return servers


def stop_app_servers(servers: list[tuple[subprocess.Popen, str]]) -> None:
    for process, _ in servers:
        process.terminate()
    for process, _ in servers:
        process.wait(timeout=10)


def _wait_until_up(process: subprocess.Popen, url: str, healthz: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, "gunicorn exited"
        try:
            if requests.get(f"{url}/healthz", timeout=10).status_code == healthz:
                return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.2)
    raise AssertionError(f"{url} did not start")
