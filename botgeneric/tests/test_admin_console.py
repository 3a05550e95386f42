"""Issue 19: the operator console is branded and leaves out models operators never touch."""

import pytest

from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_admin_index_is_branded_and_hides_internal_models(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    response = client.get("/admin/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "bot-generic operations" in html
    assert "Django administration" not in html
    for hidden in ["/admin/sites/site/", "/admin/auth/group/", "/admin/token_blacklist/"]:
        assert hidden not in html
    assert "/admin/policy/policyrule/" in html


@pytest.mark.parametrize("path", ["/admin/login/", "/accounts/login/"])
def test_pages_link_our_favicon(client, path):
    response = client.get(path)

    assert response.status_code == 200
    assert '<link rel="icon" type="image/svg+xml" href="/static/favicon.svg">' in response.content.decode()
