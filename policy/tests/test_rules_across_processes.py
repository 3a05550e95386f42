"""Issue 11 item 5: a rule an operator saves on one app server applies on every other within a second,
with no Redis (each gunicorn process has its own local-memory cache) — two real servers, one database."""

import time

import pytest
import requests
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import UserFactory
from agents.tests.factories import AgentFactory
from billing.tests.factories import PlanFactory
from policy.models import PolicyRule, RuleKind
from policy.tests.factories import BillingAccountFactory
from testing.admin_forms import admin_form_data
from testing.app_servers import start_app_servers, stop_app_servers

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.app_servers]

PASSWORD = "correct-horse-battery-9"


@pytest.fixture
def two_servers():
    """Two app servers as production runs them (gunicorn, ASGI workers) on the test database, each
    with its own local-memory cache."""
    servers = start_app_servers(2, {})
    yield [url for _, url in servers]
    stop_app_servers(servers)


def save_deny_rule_in_admin(server: str, operator, organization, agent) -> None:
    """Sign in to `server`'s admin as `operator` (password PASSWORD) and add a deny rule there."""
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

    save_deny_rule_in_admin(saving_server, operator, customer.organization, agent)
    saved_at = time.monotonic()
    assert PolicyRule.objects.filter(kind=RuleKind.DENY_AGENT, agent=agent).exists()

    statuses = [invoke(other_server)]
    while statuses[-1] != 403 and time.monotonic() - saved_at < 1.0:
        statuses.append(invoke(other_server))

    assert statuses[-1] == 403, statuses
    assert time.monotonic() - saved_at < 1.5
    assert invoke(saving_server) == 403
