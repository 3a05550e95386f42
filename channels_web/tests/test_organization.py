import pytest

from accounts.tests.factories import UserFactory
from tenants.models import ApiKey, AuditEvent, Role
from tenants.selectors import api_key_from_secret
from tenants.services import create_api_key

pytestmark = pytest.mark.django_db


def test_organization_page_lists_members_with_roles(web_client):
    colleague = UserFactory(organization=web_client.user.organization, role=Role.MEMBER, email="colleague@example.com")
    UserFactory(email="stranger@example.com")

    response = web_client.get("/organization/")

    assert response.status_code == 200
    content = response.content.decode()
    assert colleague.email in content
    assert "Member" in content
    assert "stranger@example.com" not in content


def test_members_see_the_people_but_not_the_keys_and_cannot_create_one(client):
    member = UserFactory(role=Role.MEMBER)
    client.force_login(member)

    page = client.get("/organization/")
    assert page.status_code == 200
    assert member.email in page.content.decode()
    assert page.context["api_keys"] == []
    assert b"/organization/api-keys/" not in page.content
    assert client.post("/organization/api-keys/", {"name": "x"}).status_code == 403
    assert not ApiKey.objects.exists()


def test_creating_a_key_shows_its_secret_once(web_client):
    response = web_client.post("/organization/api-keys/", {"name": "CI"})

    assert response.status_code == 200
    secret = response.context["secret"]
    assert secret.encode() in response.content
    assert api_key_from_secret(secret).name == "CI"
    assert AuditEvent.objects.filter(action="api_key.created").exists()
    assert secret.encode() not in web_client.get("/organization/").content


def test_a_key_without_a_name_is_refused_inline(web_client):
    response = web_client.post("/organization/api-keys/", {"name": "  "})

    assert response.status_code == 400
    assert b"errorlist" in response.content
    assert not ApiKey.objects.exists()


def test_revoking_a_key_stops_it_working(web_client):
    key, secret = create_api_key(organization=web_client.user.organization, name="old", actor=web_client.user)

    response = web_client.post(f"/organization/api-keys/{key.pk}/revoke/")

    assert response.status_code == 302
    assert api_key_from_secret(secret) is None
    assert AuditEvent.objects.filter(action="api_key.revoked").exists()


def test_another_organizations_key_is_not_found(web_client):
    other = UserFactory()
    key, secret = create_api_key(organization=other.organization, name="theirs", actor=other)

    response = web_client.post(f"/organization/api-keys/{key.pk}/revoke/")

    assert response.status_code == 404
    assert api_key_from_secret(secret) is not None


def test_revoking_needs_post(web_client):
    key, _ = create_api_key(organization=web_client.user.organization, name="k", actor=web_client.user)

    assert web_client.get(f"/organization/api-keys/{key.pk}/revoke/").status_code == 405
