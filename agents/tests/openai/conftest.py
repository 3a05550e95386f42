"""The OpenAI-compatible endpoint's tests: an agent on the fake upstream, a subscribed organization's API
key, and the official SDK configured as a customer would, over real HTTP (the live ASGI server)."""

import openai
import pytest
from django.urls import get_resolver

from agents.tests.factories import AgentFactory, LLMProviderFactory
from billing.tests.factories import PlanFactory
from policy.tests.factories import BillingAccountFactory
from prompts.tests.factories import ActivePromptVersionFactory
from tenants.services import create_api_key


@pytest.fixture
def upstream_agent(db, fake_openai):
    """An agent whose active prompt calls the fake upstream through an OpenAI-kind provider."""
    agent = AgentFactory(slug="writer")
    provider = LLMProviderFactory(openai=True, base_url=fake_openai.base_url, api_key="sk-upstream")
    ActivePromptVersionFactory(agent=agent, provider=provider, template="Please answer: {input}", model="gpt-4o-mini")
    return agent


@pytest.fixture
def plan(upstream_agent):
    return PlanFactory(agents=[upstream_agent], quota_requests=100)


@pytest.fixture
def api_key(user, plan):
    BillingAccountFactory(organization=user.organization, plan=plan)
    _, secret = create_api_key(organization=user.organization, name="sdk", actor=user)
    return secret


@pytest.fixture(scope="module", autouse=True)
def _urlconf_loaded():
    """Import the URLconf (all of it: aiogram, payment SDKs…) before the SDK's first request starts its
    timeout clock; on a busy machine that first import alone can take longer than a request may."""
    get_resolver().url_patterns  # noqa: B018


@pytest.fixture
def client(live_asgi_server, api_key):
    """The official SDK as a customer would configure it; no retries, so each call is one request."""
    with _sdk_client(live_asgi_server, api_key) as client:
        yield client


@pytest.fixture
def sdk_client():
    """`sdk_client(live_asgi_server, secret)`: an SDK client with another key (a context manager)."""
    return _sdk_client


def _sdk_client(live_asgi_server, secret: str, path: str = "/api/v1/openai") -> openai.OpenAI:
    """Closed after the test, so the live server's threads (and their database sessions) end with it."""
    return openai.OpenAI(base_url=f"{live_asgi_server.url}{path}", api_key=secret, max_retries=0, timeout=60)
