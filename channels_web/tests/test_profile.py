import pytest

from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_profile_page_shows_the_users_settings(web_client):
    response = web_client.get("/profile/")

    assert response.status_code == 200
    assert web_client.user.email.encode() in response.content


def test_switching_locale_to_russian_translates_the_next_page(web_client):
    response = web_client.post("/profile/", {"name": "Анна", "locale": "ru"})

    assert response.status_code == 302
    web_client.user.refresh_from_db()
    assert web_client.user.locale == "ru"
    page = web_client.get("/profile/").content.decode()
    assert 'lang="ru"' in page
    assert "Профиль" in page


def test_unsupported_locale_is_refused_inline(web_client):
    response = web_client.post("/profile/", {"name": "", "locale": "de"})

    assert response.status_code == 200
    assert b"errorlist" in response.content
    web_client.user.refresh_from_db()
    assert web_client.user.locale == "en"


def test_pages_need_a_signed_in_user(client):
    response = client.get("/profile/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_root_shows_a_landing_page_to_visitors(client):
    response = client.get("/")

    assert response.status_code == 200
    assert b"/accounts/signup/" in response.content


def test_root_sends_a_signed_in_user_to_the_dashboard(web_client):
    assert web_client.get("/")["Location"] == "/dashboard/"


def test_staff_see_the_admin_link_customers_do_not(client):
    staff = UserFactory(is_staff=True)
    customer = UserFactory()
    client.force_login(customer)
    assert b'href="/admin/"' not in client.get("/profile/").content
    client.force_login(staff)
    assert b'href="/admin/"' in client.get("/profile/").content
