import pytest

from accounts.tests.factories import UserFactory

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
