"""API keys are not a person (issue #8 item 6): they act within their scopes, never change the
profile, need an owner-granted `billing` scope for billing changes, and die with their creator's
membership instead of acting as the owner."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.services import set_active
from accounts.tests.factories import UserFactory
from agents.models import Conversation
from agents.tests.factories import AgentFactory
from billing.tests.confirming import confirmed
from billing.tests.factories import PlanFactory
from policy.tests.factories import BillingAccountFactory
from tenants.models import Role
from tenants.services import create_api_key

pytestmark = pytest.mark.django_db


def key_client(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    return client


@pytest.fixture
def agent():
    return AgentFactory(with_prompt=True)


@pytest.fixture
def owner(agent):
    owner = UserFactory(role=Role.OWNER)
    BillingAccountFactory(organization=owner.organization, plan=PlanFactory(code="monthly", agents=[agent]))
    return owner


def test_a_default_key_cannot_cancel_the_subscription(owner):
    _, secret = create_api_key(organization=owner.organization, name="backend", actor=owner)

    response = confirmed(key_client(secret), "/api/v1/billing/cancel", {"immediate": True})

    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"
    owner.organization.billing_account.refresh_from_db()
    assert owner.organization.billing_account.status == "active"


def test_a_key_the_owner_gave_the_billing_scope_can_cancel(auth_client):
    BillingAccountFactory(organization=auth_client.user.organization, plan=PlanFactory(code="monthly"))
    created = auth_client.post("/api/v1/api-keys", {"name": "billing", "scopes": ["billing", "read"]}, format="json")
    assert created.json()["scopes"] == ["billing", "read"]

    response = key_client(created.json()["key"]).post("/api/v1/billing/cancel", {"immediate": False}, format="json")

    assert response.status_code == 200, response.content


def test_an_admin_cannot_create_a_billing_key(owner):
    admin = UserFactory(organization=owner.organization, role=Role.ADMIN)
    client = APIClient()
    client.force_authenticate(admin)

    response = client.post("/api/v1/api-keys", {"name": "x", "scopes": ["billing"]}, format="json")

    assert response.status_code == 403
    assert not owner.organization.api_keys.exists()


def test_keys_get_invoke_and_read_by_default(auth_client):
    created = auth_client.post("/api/v1/api-keys", {"name": "default"}, format="json")

    assert created.json()["scopes"] == ["invoke", "read"]


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [("patch", "/api/v1/auth/profile", {"name": "Mallory"}), ("put", "/api/v1/auth/locale", {"locale": "ru"})],
)
def test_a_key_cannot_change_the_profile(owner, method, path, data):
    _, secret = create_api_key(organization=owner.organization, name="backend", actor=owner)

    response = getattr(key_client(secret), method)(path, data, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"
    owner.refresh_from_db()
    assert (owner.name, owner.locale) != ("Mallory", "ru")


def test_a_read_only_key_cannot_invoke_and_an_invoke_only_key_cannot_read(owner, agent):
    _, reader = create_api_key(organization=owner.organization, name="r", actor=owner, scopes=["read"])
    _, invoker = create_api_key(organization=owner.organization, name="i", actor=owner, scopes=["invoke"])

    invoked = key_client(reader).post(f"/api/v1/agents/{agent.pk}/invoke", {"input": "hi"}, format="json")
    read = key_client(invoker).get("/api/v1/conversations")

    assert (invoked.status_code, invoked.json()["code"]) == (403, "insufficient_scope")
    assert (read.status_code, read.json()["code"]) == (403, "insufficient_scope")
    allowed = key_client(invoker).post(f"/api/v1/agents/{agent.pk}/invoke", {"input": "hi"}, format="json")
    assert allowed.status_code == 200
    assert key_client(reader).get("/api/v1/conversations").status_code == 200


def test_a_key_of_a_deactivated_creator_is_401_not_the_owner(owner, agent):
    admin = UserFactory(organization=owner.organization, role=Role.ADMIN)
    _, secret = create_api_key(organization=owner.organization, name="ops", actor=admin)
    Conversation.objects.create(organization=owner.organization, user=owner, agent=agent, channel="web")
    set_active(user=admin, is_active=False)

    profile = key_client(secret).get("/api/v1/auth/profile")
    conversations = key_client(secret).get("/api/v1/conversations")

    assert profile.status_code == conversations.status_code == 401
    assert profile.json()["code"] == "invalid_api_key"


def test_a_key_of_a_creator_who_left_the_organization_is_401(owner):
    admin = UserFactory(organization=owner.organization, role=Role.ADMIN)
    _, secret = create_api_key(organization=owner.organization, name="ops", actor=admin)
    admin.organization = UserFactory().organization
    admin.save()

    assert key_client(secret).get("/api/v1/agents").status_code == 401


def test_the_dashboard_creates_a_billing_key_only_when_asked(owner):
    browser = Client()
    browser.force_login(owner)
    browser.post("/organization/api-keys/", {"name": "plain"})
    browser.post("/organization/api-keys/", {"name": "payments", "billing": "on"})

    scopes = dict(owner.organization.api_keys.values_list("name", "scopes"))
    assert scopes == {"plain": ["invoke", "read"], "payments": ["invoke", "read", "billing"]}
