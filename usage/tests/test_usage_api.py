"""GET /api/v1/billing/usage and the period boundary: counters belong to one billing period."""

from datetime import timedelta

from django.utils import timezone

from agents.tests.factories import AgentFactory
from billing.tests.factories import PlanFactory
from policy.models import RuleKind
from policy.tests.factories import BillingAccountFactory, PolicyRuleFactory
from usage.models import PeriodCounter


def _invoke(client, agent, text="Hello"):
    return client.post(f"/api/v1/agents/{agent.pk}/invoke", {"input": text}, format="json")


def _metrics(client):
    response = client.get("/api/v1/billing/usage")
    assert response.status_code == 200
    return {row["metric"]: row for row in response.json()["metrics"]}


def _subscribed(user, **plan_fields):
    agent = AgentFactory(with_prompt=True)
    account = BillingAccountFactory(organization=user.organization, plan=PlanFactory(agents=[agent], **plan_fields))
    return agent, account


def test_usage_shows_used_and_limits_of_the_current_period(auth_client, user):
    agent, account = _subscribed(user, quota_requests=10, quota_tokens_input=None, quota_tokens_output=5000)
    answers = [_invoke(auth_client, agent).json() for _ in range(2)]

    metrics = _metrics(auth_client)

    assert (metrics["requests"]["used"], metrics["requests"]["limit"]) == (2, 10)
    assert metrics["tokens_input"]["used"] == sum(a["usage"]["tokens_input"] for a in answers)
    assert metrics["tokens_input"]["limit"] is None
    assert (metrics["tokens_output"]["used"], metrics["tokens_output"]["limit"]) == (
        sum(a["usage"]["tokens_output"] for a in answers),
        5000,
    )
    assert metrics["requests"]["period_start"] == account.current_period_start.isoformat().replace("+00:00", "Z")
    assert metrics["requests"]["period_end"] == account.current_period_end.isoformat().replace("+00:00", "Z")


def test_extra_quota_rule_shows_in_the_limit(auth_client, user):
    _, account = _subscribed(user, quota_requests=10)
    PolicyRuleFactory(kind=RuleKind.EXTRA_QUOTA, organization=user.organization, extra_requests=5)

    assert _metrics(auth_client)["requests"]["limit"] == 15


def test_usage_of_an_organization_without_a_plan_is_empty(auth_client):
    assert auth_client.get("/api/v1/billing/usage").json() == {"metrics": []}


def test_usage_needs_authentication(api_client):
    assert api_client.get("/api/v1/billing/usage").status_code == 401


def test_a_new_period_starts_from_zero_and_the_quota_applies_again(auth_client, user):
    agent, account = _subscribed(user, quota_requests=1)
    assert _invoke(auth_client, agent).status_code == 200
    assert _invoke(auth_client, agent).status_code == 429

    renewed_at = timezone.now() - timedelta(minutes=1)
    account.current_period_start, account.current_period_end = renewed_at, renewed_at + timedelta(days=30)
    account.save(update_fields=["current_period_start", "current_period_end"])

    assert _metrics(auth_client)["requests"]["used"] == 0
    assert _invoke(auth_client, agent).status_code == 200
    assert list(PeriodCounter.objects.order_by("period_start").values_list("requests", flat=True)) == [1, 1]
