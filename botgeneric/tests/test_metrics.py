"""Issue 17 item 3: GET /metrics (Prometheus), guarded by METRICS_TOKEN, counts what the app did.

Each test scrapes before and after doing something through the app's own endpoints and tasks and compares
the parsed figures (this process's registry is shared by every test, so only differences count).
"""

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from agents.tests.factories import AgentFactory, LLMProviderFactory
from background.queue import enqueue
from billing.tasks import billing_tick
from billing.tests.factories import PlanFactory
from billing.tests.paddle_signing import notification, post_paddle
from policy.tests.factories import BillingAccountFactory

pytestmark = pytest.mark.django_db

TOKEN = "metrics-test-token-0123456789abcdef"


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


@pytest.fixture
def agent(user):
    agent = AgentFactory(with_prompt=True)
    BillingAccountFactory(organization=user.organization, plan=PlanFactory(agents=[agent], quota_requests=100))
    return agent


def invoke_url(agent) -> str:
    return f"/api/v1/agents/{agent.pk}/invoke"


def scrape(token: str = TOKEN) -> dict[tuple, float]:
    """Every sample of /metrics by (name, sorted labels)."""
    response = Client().get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def change(before: dict, after: dict, name: str, **labels) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


def test_metrics_answer_404_without_the_token_and_always_while_none_is_set(settings):
    settings.METRICS_TOKEN = ""
    for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer anything"}):
        assert Client().get("/metrics", headers=headers).status_code == 404

    settings.METRICS_TOKEN = TOKEN
    unknown_path = Client().get("/no-such-page")
    for headers in (
        {},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Bearer {TOKEN[:-1]}"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
    ):
        refused = Client().get("/metrics", headers=headers)
        assert (refused.status_code, refused["Content-Type"]) == (404, unknown_path["Content-Type"]), headers
    assert Client().get("/metrics", headers={"Authorization": f"bearer {TOKEN}"}).status_code == 200


def test_a_call_counts_by_agent_channel_and_outcome_with_tokens_latency_and_first_token(
    metrics_token, auth_client, agent
):
    before = scrape()
    response = auth_client.post(invoke_url(agent), {"input": "Hello there"}, format="json")
    after = scrape()

    assert response.status_code == 200, response.json()
    usage = response.json()["usage"]
    assert change(before, after, "botgeneric_calls_total", agent=agent.slug, channel="api", outcome="ok") == 1
    assert change(before, after, "botgeneric_tokens_total", agent=agent.slug, direction="in") == usage["tokens_input"]
    assert change(before, after, "botgeneric_tokens_total", agent=agent.slug, direction="out") == usage["tokens_output"]
    assert change(before, after, "botgeneric_upstream_latency_seconds_count", agent=agent.slug) == 1
    assert change(before, after, "botgeneric_upstream_latency_seconds_sum", agent=agent.slug) == pytest.approx(
        usage["latency_ms"] / 1000
    )
    first_token = "botgeneric_time_to_first_token_seconds_count"
    assert change(before, after, first_token, agent=agent.slug, provider="demo") == 1


def test_the_first_token_of_a_real_upstream_and_its_failures_are_counted(
    metrics_token, auth_client, agent, fake_openai
):
    LLMProviderFactory(openai=True, base_url=fake_openai.base_url, timeout=1.0, max_retries=0, is_default=True)
    before = scrape()
    assert auth_client.post(invoke_url(agent), {"input": "Hello"}, format="json").status_code == 200
    fake_openai.mode = "fail_500"
    assert auth_client.post(invoke_url(agent), {"input": "Hello"}, format="json").status_code == 502
    after = scrape()

    assert (
        change(before, after, "botgeneric_time_to_first_token_seconds_count", agent=agent.slug, provider="openai") == 1
    )
    assert change(before, after, "botgeneric_calls_total", agent=agent.slug, channel="api", outcome="ok") == 1
    assert change(before, after, "botgeneric_calls_total", agent=agent.slug, channel="api", outcome="error") == 1


def test_quota_and_plan_denials_count_by_deny_code(metrics_token, auth_client, user):
    agent, other = AgentFactory(with_prompt=True), AgentFactory(with_prompt=True)
    BillingAccountFactory(organization=user.organization, plan=PlanFactory(agents=[agent], quota_requests=1))

    before = scrape()
    answers = [auth_client.post(invoke_url(agent), {"input": "Hi"}, format="json") for _ in range(2)]
    refused = auth_client.post(invoke_url(other), {"input": "Hi"}, format="json")
    after = scrape()

    assert [answer.status_code for answer in answers] == [200, 429]
    assert answers[1].json()["code"] == "quota_exceeded"
    assert refused.status_code == 403 and refused.json()["code"] == "agent_not_in_plan"
    assert change(before, after, "botgeneric_policy_denials_total", code="quota_exceeded") == 1
    assert change(before, after, "botgeneric_policy_denials_total", code="agent_not_in_plan") == 1
    assert change(before, after, "botgeneric_calls_total", agent=agent.slug, channel="api", outcome="denied") == 1
    assert change(before, after, "botgeneric_calls_total", agent=other.slug, channel="api", outcome="denied") == 1


def test_webhook_events_count_by_provider_and_outcome(metrics_token, api_client, fake_paddle):
    before = scrape()
    forged = post_paddle(api_client, notification("customer.updated", {"id": "ctm_01"}), "not-the-secret")
    accepted = post_paddle(api_client, notification("customer.updated", {"id": "ctm_01"}), fake_paddle.webhook_secret)
    after = scrape()

    assert forged.status_code == 400
    assert accepted.status_code == 200
    outcome = accepted.json()["outcome"]
    assert change(before, after, "botgeneric_webhook_events_total", provider="paddle", outcome="rejected") == 1
    assert change(before, after, "botgeneric_webhook_events_total", provider="paddle", outcome=outcome) == 1


def test_task_runs_and_the_billing_tick_duration_are_counted(metrics_token):
    before = scrape()
    enqueue(billing_tick)
    after = scrape()

    assert change(before, after, "botgeneric_task_runs_total", task="billing.tick", state="success") == 1
    assert change(before, after, "botgeneric_billing_tick_seconds_count") == 1
    assert change(before, after, "botgeneric_billing_tick_seconds_sum") > 0
