import pytest
from django.test import Client

from agents.tests.factories import AgentFactory
from billing.tests.account_factories import BillingAccountFactory
from billing.tests.factories import PlanFactory
from deployments.tests.conftest import fake_telegram, tenant  # noqa: F401  (the deployments pages' customer)


@pytest.fixture
def web_client(user):
    """A browser-like client signed in as `user` (session cookie)."""
    client = Client()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def agent(db):
    """An agent in the customer's plan, answering through the built-in offline demo model."""
    return AgentFactory(with_prompt=True, name="Helper")


@pytest.fixture
def premium_agent(db):
    """An agent only the Yearly plan includes."""
    return AgentFactory(with_prompt=True, name="Analyst")


@pytest.fixture
def plan(agent):
    return PlanFactory(code="daily", name="Daily", agents=[agent], quota_requests=100)


@pytest.fixture
def yearly(premium_agent, agent):
    return PlanFactory(code="yearly", name="Yearly", agents=[agent, premium_agent], quota_requests=150000)


@pytest.fixture
def account(user, plan):
    return BillingAccountFactory(organization=user.organization, plan=plan)
