"""Issue 11 item 4: with Redis unreachable the app degrades instead of answering 500, and /readyz says why.

The cache is the production one (`botgeneric.cache`) pointed at a closed port, as a Redis outage looks.
"""

import logging

import pytest

from accounts.tests.factories import UserFactory
from agents.tests.factories import AgentFactory
from billing.tests.factories import PlanFactory
from botgeneric.cache import cache_settings
from policy.models import RuleKind
from policy.tests.factories import BillingAccountFactory, PolicyRuleFactory
from usage.models import PeriodCounter

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-9"


@pytest.fixture
def redis_down(settings):
    settings.CACHES = cache_settings(redis_url="redis://127.0.0.1:1/0", timeout_seconds=0.5)


def test_readyz_is_ok_with_a_working_cache(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok", "migrations": "ok"}}


def test_readyz_answers_503_naming_the_cache_when_redis_is_down(client, redis_down):
    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["cache"]
    assert body["checks"]["database"] == "ok"


def test_healthz_stays_a_liveness_probe_when_redis_is_down(client, redis_down):
    assert client.get("/healthz").status_code == 200


def test_login_works_and_logs_the_outage_when_redis_is_down(api_client, redis_down, caplog):
    user = UserFactory()

    with caplog.at_level(logging.ERROR, logger="botgeneric.cache"):
        response = api_client.post("/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json")

    assert response.status_code == 200, response.content
    assert set(response.json()) == {"access", "refresh"}
    assert any("cache unavailable" in record.getMessage() for record in caplog.records)


def test_invoke_works_rate_limit_fails_open_and_quota_stays_exact_when_redis_is_down(api_client, redis_down):
    user = UserFactory()
    agent = AgentFactory(with_prompt=True)
    account = BillingAccountFactory(organization=user.organization, plan=PlanFactory(agents=[agent], quota_requests=2))
    PolicyRuleFactory(kind=RuleKind.RATE_LIMIT, organization=user.organization, requests_per_minute=1)
    login = api_client.post("/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['access']}")

    statuses = [
        api_client.post(f"/api/v1/agents/{agent.pk}/invoke", {"input": "Hello"}, format="json").status_code
        for _ in range(3)
    ]

    assert statuses == [200, 200, 429]
    assert PeriodCounter.objects.get(account=account).requests == 2


def test_dashboard_sign_in_works_when_redis_is_down(client, redis_down):
    """allauth keeps its login rate limits and lockouts in the cache too."""
    user = UserFactory()

    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})

    assert response.status_code == 302
    assert client.get("/dashboard/").status_code == 200
