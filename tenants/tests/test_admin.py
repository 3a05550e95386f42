from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from tenants.models import Invitation
from tenants.services import hash_secret

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/admin/accounts/user/", "/admin/tenants/organization/"])
def test_changelists_render_for_a_superuser(client, path):
    UserFactory.create_batch(3)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.get(path + "?q=example")
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/admin/accounts/user/", "/admin/tenants/organization/"])
def test_changelists_redirect_a_customer_to_login(client, path):
    client.force_login(UserFactory())
    response = client.get(path)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_organization_page_shows_its_members(client):
    member = UserFactory()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.get(f"/admin/tenants/organization/{member.organization_id}/change/")
    assert response.status_code == 200
    assert member.email in response.content.decode()


def test_invitations_are_searchable_and_the_organization_shows_its_open_ones(client):
    owner = UserFactory()
    later = timezone.now() + timedelta(days=7)
    Invitation.objects.create(
        organization=owner.organization, email="wanted@example.com", token_hash=hash_secret("a"), expires_at=later
    )
    Invitation.objects.create(
        organization=owner.organization, email="other@example.com", token_hash=hash_secret("b"), expires_at=later
    )
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    found = client.get("/admin/tenants/invitation/?q=wanted").content.decode()
    organization = client.get(f"/admin/tenants/organization/{owner.organization_id}/change/").content.decode()

    assert "wanted@example.com" in found
    assert "other@example.com" not in found
    assert "wanted@example.com" in organization
    assert "token_hash" not in found
