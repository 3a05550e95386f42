"""After the lifecycle expires a subscription, the policy engine refuses calls (through the invoke API)."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from agents.tests.factories import AgentFactory
from billing.models import BillingAccount
from billing.tests.confirming import confirmed
from billing.tests.factories import PlanFactory

pytestmark = pytest.mark.django_db


def test_expired_subscription_is_denied_with_subscription_inactive(auth_client, settings):
    agent = AgentFactory(with_prompt=True)
    PlanFactory(code="pro", agents=[agent])
    subscribed = confirmed(auth_client, "/api/v1/billing/subscribe", {"plan": "pro", "provider": "manual"})
    assert subscribed.json()["status"] == "active"
    url = f"/api/v1/agents/{agent.pk}/invoke"
    assert auth_client.post(url, {"input": "Hello"}, format="json").status_code == 200

    # The period ended and the renewal could not be charged (manual renewals switched off): expired.
    settings.BILLING_MANUAL_ENABLED = False
    BillingAccount.objects.update(current_period_end=timezone.now() - timedelta(seconds=1))
    call_command("billing_tick")
    assert auth_client.get("/api/v1/billing/account").json()["status"] == "expired"

    response = auth_client.post(url, {"input": "Hello"}, format="json")
    assert response.status_code == 402
    assert response.json()["code"] == "subscription_inactive"


def test_past_due_account_keeps_access_until_the_grace_period_ends(auth_client, monthly, settings):
    settings.BILLING_GRACE_DAYS = 3
    agent = AgentFactory(with_prompt=True)
    monthly.agents.add(agent)
    confirmed(auth_client, "/api/v1/billing/subscribe", {"plan": "monthly", "provider": "manual"})
    BillingAccount.objects.update(provider="yookassa", current_period_end=timezone.now() - timedelta(seconds=1))
    call_command("billing_tick")
    assert auth_client.get("/api/v1/billing/account").json()["status"] == "past_due"
    url = f"/api/v1/agents/{agent.pk}/invoke"

    assert auth_client.post(url, {"input": "Hello"}, format="json").status_code == 200

    BillingAccount.objects.update(past_due_since=timezone.now() - timedelta(days=3, seconds=1))
    response = auth_client.post(url, {"input": "Hello"}, format="json")
    assert response.status_code == 402
    assert response.json()["code"] == "subscription_inactive"
    call_command("billing_tick")
    assert auth_client.get("/api/v1/billing/account").json()["status"] == "expired"
