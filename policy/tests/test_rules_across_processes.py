"""Issue 11 item 5: a rule an operator saves on one app server applies on every other within a second,
with no Redis (each gunicorn process has its own local-memory cache) — two real servers, one database."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.db import connection
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import UserFactory
from agents.tests.factories import AgentFactory
from billing.tests.factories import PlanFactory
from policy.models import PolicyRule, RuleKind
from policy.tests.factories import BillingAccountFactory
from testing.admin_forms import admin_form_data

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery-9"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{host}/{db['NAME']}"


@pytest.fixture
def two_servers():
    """Two app servers as production runs them (gunicorn, ASGI workers) on the test database, each
    with its own local-memory cache."""
    environment = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "OPENAI_API_KEY")}
    environment.update(DJANGO_SETTINGS_MODULE="botgeneric.settings.test", DATABASE_URL=_database_url())
    servers = []
    for _ in range(2):
        port = _free_port()
        command = [sys.executable, "-m", "gunicorn", "botgeneric.asgi:application", "--bind", f"127.0.0.1:{port}"]
        command += ["--worker-class", "uvicorn_worker.UvicornWorker", "--workers", "1", "--log-level", "warning"]
        process = subprocess.Popen(command, cwd=ROOT, env=environment)
        servers.append((process, f"http://127.0.0.1:{port}"))
    try:
        for process, url in servers:
            _wait_until_up(process, url)
        yield [url for _, url in servers]
    finally:
        for process, _ in servers:
            process.terminate()
            process.wait(timeout=10)


def _wait_until_up(process: subprocess.Popen, url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "gunicorn exited"
        try:
            if requests.get(f"{url}/healthz", timeout=10).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.2)
    raise AssertionError(f"{url} did not start")


def _save_deny_rule_in_admin(server: str, operator, organization, agent) -> None:
    session = requests.Session()
    login_page = session.get(f"{server}/admin/login/", timeout=10)
    assert login_page.status_code == 200
    session.post(
        f"{server}/admin/login/",
        {"username": operator.email, "password": PASSWORD, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": f"{server}/admin/login/"},
        timeout=10,
    )
    form = session.get(f"{server}/admin/policy/policyrule/add/", timeout=10)
    assert form.status_code == 200
    data = admin_form_data(form.text, "policyrule_form")
    data.update(kind=RuleKind.DENY_AGENT, organization=str(organization.pk), agent=str(agent.pk))
    saved = session.post(
        f"{server}/admin/policy/policyrule/add/",
        data,
        headers={"Referer": f"{server}/admin/policy/policyrule/add/"},
        allow_redirects=False,
        timeout=10,
    )
    assert saved.status_code == 302, saved.text[-2000:]


def test_a_deny_rule_saved_on_one_server_is_enforced_by_the_other_within_a_second(two_servers):
    saving_server, other_server = two_servers
    operator = UserFactory(is_staff=True, is_superuser=True)
    customer = UserFactory()
    agent = AgentFactory(with_prompt=True)
    BillingAccountFactory(organization=customer.organization, plan=PlanFactory(agents=[agent], quota_requests=1000))
    headers = {"Authorization": f"Bearer {RefreshToken.for_user(customer).access_token}"}

    def invoke(server: str) -> int:
        url = f"{server}/api/v1/agents/{agent.pk}/invoke"
        return requests.post(url, json={"input": "hello"}, headers=headers, timeout=10).status_code

    assert [invoke(saving_server), invoke(other_server)] == [200, 200]  # both servers hold the rules in memory

    _save_deny_rule_in_admin(saving_server, operator, customer.organization, agent)
    saved_at = time.monotonic()
    assert PolicyRule.objects.filter(kind=RuleKind.DENY_AGENT, agent=agent).exists()

    statuses = [invoke(other_server)]
    while statuses[-1] != 403 and time.monotonic() - saved_at < 1.0:
        statuses.append(invoke(other_server))

    assert statuses[-1] == 403, statuses
    assert time.monotonic() - saved_at < 1.5
    assert invoke(saving_server) == 403
