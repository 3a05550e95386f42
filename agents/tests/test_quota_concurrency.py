"""Exact quotas under concurrency: real threads through the HTTP stack (the live ASGI server) on PostgreSQL."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import UserFactory
from agents.runtime import estimate_tokens
from agents.tests.factories import AgentFactory, LLMProviderFactory
from billing.tests.factories import PlanFactory
from policy.tests.factories import BillingAccountFactory
from prompts.tests.factories import ActivePromptVersionFactory
from usage.models import Outcome, PeriodCounter, UsageEvent

CALLS = 50
QUOTA = 10


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_invokes_against_a_quota_of_ten_allow_exactly_ten(live_asgi_server):
    user = UserFactory()
    agent = AgentFactory(with_prompt=True)
    account = BillingAccountFactory(
        organization=user.organization, plan=PlanFactory(agents=[agent], quota_requests=QUOTA)
    )
    headers = {"Authorization": f"Bearer {RefreshToken.for_user(user).access_token}"}
    url = f"{live_asgi_server.url}/api/v1/agents/{agent.pk}/invoke"

    def call(number):
        with requests.Session() as session:
            return session.post(url, json={"input": f"call {number}"}, headers=headers, timeout=60)

    with ThreadPoolExecutor(max_workers=CALLS) as pool:
        responses = list(pool.map(call, range(CALLS)))

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * QUOTA + [429] * (CALLS - QUOTA)
    assert {response.json()["code"] for response in responses if response.status_code == 429} == {"quota_exceeded"}
    assert PeriodCounter.objects.get(account=account).requests == QUOTA
    assert UsageEvent.objects.filter(outcome=Outcome.OK).count() == QUOTA
    assert UsageEvent.objects.filter(outcome=Outcome.DENIED, error_code="quota_exceeded").count() == CALLS - QUOTA


def _streaming_setup(fake_openai, **plan_quotas):
    """A customer whose agent streams from the fake upstream (a little slowly, so calls overlap)."""
    user = UserFactory()
    provider = LLMProviderFactory(openai=True, base_url=fake_openai.base_url, api_key="sk-upstream", timeout=30)
    agent = AgentFactory()
    version = ActivePromptVersionFactory(agent=agent, provider=provider, template="{input}", max_tokens=50)
    account = BillingAccountFactory(organization=user.organization, plan=PlanFactory(agents=[agent], **plan_quotas))
    fake_openai.token_delay_ms = 20
    headers = {"Authorization": f"Bearer {RefreshToken.for_user(user).access_token}"}
    return agent, version, account, headers


def _stream_concurrently(url: str, headers: dict, inputs: list[str]) -> list[tuple[int, str]]:
    """Each input as one SSE invoke, all at once; (status, whole body) per call."""

    def call(text):
        with requests.Session() as session:
            response = session.post(url, json={"input": text, "stream": True}, headers=headers, timeout=60)
            return response.status_code, response.text

    with ThreadPoolExecutor(max_workers=len(inputs)) as pool:
        return list(pool.map(call, inputs))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_streams_against_a_quota_of_ten_start_exactly_ten(live_asgi_server, fake_openai):
    agent, _, account, headers = _streaming_setup(fake_openai, quota_requests=QUOTA)
    url = f"{live_asgi_server.url}/api/v1/agents/{agent.pk}/invoke"

    results = _stream_concurrently(url, headers, [f"stream {n} REPLY_CHARS=100" for n in range(CALLS)])

    assert sorted(status for status, _ in results) == [200] * QUOTA + [429] * (CALLS - QUOTA)
    assert all("event: done" in body for status, body in results if status == 200)
    assert all('"quota_exceeded"' in body for status, body in results if status == 429)
    assert PeriodCounter.objects.get(account=account).requests == QUOTA
    assert UsageEvent.objects.filter(outcome=Outcome.OK).count() == QUOTA


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_calls_overshoot_token_quotas_by_at_most_one_calls_estimate_error(
    live_asgi_server, fake_openai
):
    # Each answer is the version's max_tokens (50) long: the output quota fits 6 of them. Before the
    # reservation counted max_tokens and the whole prompt, all 50 calls started.
    agent, version, account, headers = _streaming_setup(
        fake_openai, quota_requests=None, quota_tokens_input=2_000, quota_tokens_output=300
    )
    url = f"{live_asgi_server.url}/api/v1/agents/{agent.pk}/invoke"
    inputs = [f"call {n:02d} " + "words " * 40 + "REPLY_CHARS=400" for n in range(CALLS)]

    results = _stream_concurrently(url, headers, inputs)

    assert 0 < sum(status == 200 for status, _ in results) < CALLS
    counter = PeriodCounter.objects.get(account=account)
    events = UsageEvent.objects.filter(outcome=Outcome.OK)
    estimate = estimate_tokens(version.system_prompt) + estimate_tokens(inputs[0])  # the same for every call
    worst_input_error = max(0, *(event.tokens_input - estimate for event in events))
    assert counter.tokens_input <= 2_000 + worst_input_error
    assert counter.tokens_output <= 300
    assert counter.tokens_output == sum(event.tokens_output for event in events)
