"""A person deletes their own account: personal data erased, keys, tokens and sessions ended; an
organization's only owner must hand it over or delete it first."""

import pytest
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.membership import transfer_ownership
from accounts.models import AuthProvider, User
from accounts.tests.factories import UserFactory
from agents.models import Conversation
from agents.tests.factories import AgentFactory
from botgeneric.channels import Channel
from tenants.models import AuditEvent, Role
from tenants.services import create_api_key

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-9"


def _jwt_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def member():
    owner = UserFactory()
    return UserFactory(organization=owner.organization, role=Role.ADMIN)


def test_a_member_deletes_their_account_and_everything_that_signed_them_in_stops(member):
    _, secret = create_api_key(organization=member.organization, name="mine", actor=member)
    agent = AgentFactory()
    Conversation.objects.create(organization=member.organization, user=member, agent=agent, channel=Channel.WEB)
    client = _jwt_client(member)
    browser = Client()
    browser.force_login(member)

    response = client.delete("/api/v1/auth/profile", {"password": PASSWORD}, format="json")

    assert response.status_code == 204
    user = User.objects.get(pk=member.pk)
    assert (user.email, user.name, user.is_active, user.organization_id) == (None, "", False, None)
    assert not user.has_usable_password()
    assert not Conversation.objects.filter(user=user).exists()
    assert client.get("/api/v1/auth/profile").json()["code"] == "user_inactive"  # its JWTs are refused
    assert user.token_version == member.token_version + 1
    assert APIClient(HTTP_AUTHORIZATION=f"Api-Key {secret}").get("/api/v1/agents").status_code == 401
    assert browser.get("/dashboard/").status_code == 302  # the session ended: back to sign-in
    assert AuditEvent.objects.filter(action="user.deleted", organization=member.organization).exists()


def test_a_wrong_password_deletes_nothing(member):
    response = _jwt_client(member).delete("/api/v1/auth/profile", {"password": "wrong"}, format="json")

    assert response.status_code == 400
    assert "password" in response.json()["fields"]
    assert User.objects.get(pk=member.pk).is_active


def test_the_only_owner_must_transfer_ownership_or_delete_the_organization_first(member):
    owner = User.objects.get(organization=member.organization, role=Role.OWNER)

    response = _jwt_client(owner).delete("/api/v1/auth/profile", {"password": PASSWORD}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "owner_must_transfer"
    assert User.objects.get(pk=owner.pk).email == owner.email


def test_a_former_owner_who_transferred_the_ownership_may_leave(member):
    owner = User.objects.get(organization=member.organization, role=Role.OWNER)
    transfer_ownership(actor=owner, new_owner=member)

    response = _jwt_client(owner).delete("/api/v1/auth/profile", {"password": PASSWORD}, format="json")

    assert response.status_code == 204
    assert User.objects.get(pk=member.pk).role == Role.OWNER


def test_an_owner_whose_organization_is_being_deleted_may_leave(member):
    owner = User.objects.get(organization=member.organization, role=Role.OWNER)
    owner.organization.deletion_due_at = owner.date_joined
    owner.organization.save(update_fields=["deletion_due_at"])

    response = _jwt_client(owner).delete("/api/v1/auth/profile", {"password": PASSWORD}, format="json")

    assert response.status_code == 204


def test_an_account_without_a_password_confirms_with_the_word(member):
    member.set_unusable_password()
    member.auth_provider = AuthProvider.TELEGRAM
    member.save()
    client = _jwt_client(member)

    refused = client.delete("/api/v1/auth/profile", {"confirm": "yes"}, format="json")
    accepted = client.delete("/api/v1/auth/profile", {"confirm": "DELETE"}, format="json")

    assert (refused.status_code, list(refused.json()["fields"])) == (400, ["confirm"])
    assert accepted.status_code == 204


def test_an_api_key_cannot_delete_its_creators_account(member):
    _, secret = create_api_key(organization=member.organization, name="k", actor=member)

    response = APIClient(HTTP_AUTHORIZATION=f"Api-Key {secret}").delete(
        "/api/v1/auth/profile", {"password": PASSWORD}, format="json"
    )

    assert (response.status_code, response.json()["code"]) == (403, "insufficient_scope")
    assert User.objects.get(pk=member.pk).is_active


def test_a_member_deletes_their_account_on_the_dashboard(member):
    browser = Client()
    browser.force_login(member)

    refused = browser.post("/profile/delete/", {"password": "wrong"})
    response = browser.post("/profile/delete/", {"password": PASSWORD})

    assert refused.status_code == 400
    assert response.status_code == 302
    assert not User.objects.get(pk=member.pk).is_active
    assert browser.get("/dashboard/").status_code == 302
