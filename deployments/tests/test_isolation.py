"""Another organization's deployments, contacts and client conversations answer 404 on every endpoint;
a member's own lists never show the organization's clients."""

import pytest

from agents.models import Conversation
from deployments.models import Deployment
from deployments.services import open_conversation
from deployments.tests.factories import ContactFactory, DeploymentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def theirs(tenant):
    """A widget deployment of the other organization with a client and its conversation."""
    deployment = DeploymentFactory(organization=tenant.stranger.organization, agent=tenant.sales)
    contact = ContactFactory(deployment=deployment)
    conversation = open_conversation(deployment=deployment, contact=contact, user=tenant.stranger)
    return deployment, contact, conversation


@pytest.mark.parametrize(
    "method,path,body",
    [
        ("get", "/api/v1/deployments/{deployment}", None),
        ("patch", "/api/v1/deployments/{deployment}", {"status": "paused"}),
        ("delete", "/api/v1/deployments/{deployment}", None),
        ("get", "/api/v1/contacts/{contact}", None),
        ("get", "/api/v1/client-conversations/{conversation}", None),
    ],
)
def test_another_organizations_rows_are_404(tenant, theirs, method, path, body):
    deployment, contact, conversation = theirs
    url = path.format(deployment=deployment.pk, contact=contact.pk, conversation=conversation.pk)

    response = getattr(tenant.api, method)(url, body, format="json")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert Deployment.objects.filter(pk=deployment.pk, status="active").exists()


def test_lists_show_only_the_callers_organization(tenant, theirs):
    mine = DeploymentFactory(organization=tenant.owner.organization, agent=tenant.sales)
    my_contact = ContactFactory(deployment=mine)
    open_conversation(deployment=mine, contact=my_contact, user=tenant.owner)

    deployments = tenant.api.get("/api/v1/deployments").json()["results"]
    contacts = tenant.api.get("/api/v1/contacts").json()["results"]
    inbox = tenant.api.get("/api/v1/client-conversations").json()["results"]

    assert [row["id"] for row in deployments] == [mine.pk]
    assert [row["id"] for row in contacts] == [my_contact.pk]
    assert [row["contact"] for row in inbox] == [my_contact.pk]


def test_a_clients_conversation_is_not_the_members_own(tenant):
    mine = DeploymentFactory(organization=tenant.owner.organization, agent=tenant.sales)
    conversation = open_conversation(deployment=mine, contact=ContactFactory(deployment=mine), user=tenant.owner)

    assert tenant.api.get("/api/v1/conversations").json()["results"] == []
    assert tenant.api.get(f"/api/v1/conversations/{conversation.pk}").status_code == 404
    invoke = tenant.api.post(
        f"/api/v1/agents/{tenant.sales.pk}/invoke", {"input": "hi", "conversation_id": conversation.pk}, format="json"
    )
    assert invoke.status_code == 404
    assert Conversation.objects.get(pk=conversation.pk).messages.count() == 0


def test_a_contact_page_lists_its_conversations(tenant):
    mine = DeploymentFactory(organization=tenant.owner.organization, agent=tenant.sales)
    contact = ContactFactory(deployment=mine)
    conversation = open_conversation(deployment=mine, contact=contact, user=tenant.owner)

    body = tenant.api.get(f"/api/v1/contacts/{contact.pk}").json()

    assert [row["id"] for row in body["conversations"]] == [conversation.pk]


def test_a_member_cannot_deploy_and_an_api_key_cannot_change_deployments(tenant):
    from accounts.tests.factories import UserFactory
    from deployments.tests.conftest import client_for
    from tenants.services import create_api_key

    member = UserFactory(organization=tenant.owner.organization, role="member")
    widget = {"agent": tenant.sales.pk, "channel": "widget", "allowed_origins": ["https://a.example"]}
    assert client_for(member).post("/api/v1/deployments", widget, format="json").json()["code"] == "forbidden_role"

    _, secret = create_api_key(organization=tenant.owner.organization, name="ci", actor=tenant.owner)
    tenant.api.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    assert tenant.api.post("/api/v1/deployments", widget, format="json").json()["code"] == "insufficient_scope"
    assert tenant.api.get("/api/v1/deployments").status_code == 200
