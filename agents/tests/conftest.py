"""A subscribed customer with one agent in their plan, and helpers to call the agent API."""

import pytest

from agents.tests.factories import AgentFactory, LLMProviderFactory
from billing.tests.factories import PlanFactory
from policy.tests.factories import BillingAccountFactory


@pytest.fixture
def agent(db):
    return AgentFactory(with_prompt=True)


@pytest.fixture
def plan(agent):
    return PlanFactory(agents=[agent], quota_requests=100)


@pytest.fixture
def account(user, plan):
    return BillingAccountFactory(organization=user.organization, plan=plan)


@pytest.fixture
def invoke_url():
    return lambda agent: f"/api/v1/agents/{agent.pk}/invoke"


@pytest.fixture
def upstream_provider(fake_openai, db):
    """The default provider: the fake OpenAI upstream over real HTTP, a short timeout, no retries."""
    return LLMProviderFactory(
        openai=True,
        base_url=fake_openai.base_url,
        api_key="sk-test-upstream",
        timeout=1.0,
        max_retries=0,
        is_default=True,
    )
