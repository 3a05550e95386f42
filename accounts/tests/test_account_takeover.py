"""Pre-account takeover (issue #8 item 1): an address someone registered without proving it gives no
way into the account of whoever really owns it, and every event that changes who can get in ends
the JWTs issued before it."""

import re

import pytest
from allauth.socialaccount.models import SocialAccount
from django.test import Client

from accounts.models import User
from accounts.tests.factories import UserFactory
from channels_web.tests.test_social_signin import google_sign_in
from testing.fakes.oidc_provider import Person

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-9"


def _register(api_client, email):
    response = api_client.post("/api/v1/auth/register", {"email": email, "password": PASSWORD}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _login(api_client, email, password=PASSWORD):
    response = api_client.post("/api/v1/auth/login", {"email": email, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def _refresh(api_client, refresh):
    return api_client.post("/api/v1/auth/refresh", {"refresh": refresh}, format="json")


def _profile(api_client, access):
    return api_client.get("/api/v1/auth/profile", HTTP_AUTHORIZATION=f"Bearer {access}")


def _link(mail) -> str:
    return re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+)", mail.body).group(1)


def test_api_register_mails_a_verification_link_and_the_address_stays_unverified(
    api_client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        body = _register(api_client, "new@example.com")

    assert body["user"]["email_verified"] is False
    assert mailoutbox[-1].to == ["new@example.com"]
    Client().post(_link(mailoutbox[-1]))
    assert User.objects.get(email="new@example.com").email_verified


def test_google_login_does_not_enter_an_account_whose_address_was_registered_unverified(api_client, fake_google):
    _register(api_client, "victim@example.com")
    attacker = User.objects.get(email="victim@example.com")
    stolen = _login(api_client, "victim@example.com")
    fake_google.person = Person(email="victim@example.com")

    victim_browser = Client()
    google_sign_in(victim_browser, fake_google)

    assert not SocialAccount.objects.filter(user=attacker).exists()
    assert victim_browser.session.get("_auth_user_id") != str(attacker.pk)
    assert _refresh(api_client, stolen["refresh"]).status_code == 200  # nothing of the victim's reached it


def test_google_login_connects_to_a_verified_account_and_revokes_its_tokens(api_client, fake_google):
    owner = UserFactory(email="owner@example.com", email_verified=True)
    earlier = _login(api_client, "owner@example.com")
    fake_google.person = Person(email="owner@example.com")

    browser = Client()
    google_sign_in(browser, fake_google)

    assert SocialAccount.objects.filter(user=owner, provider="google").exists()
    assert browser.session["_auth_user_id"] == str(owner.pk)
    assert _refresh(api_client, earlier["refresh"]).status_code == 401
    assert _profile(api_client, earlier["access"]).status_code == 401


def test_connecting_google_through_the_id_token_exchange_revokes_earlier_tokens(api_client, fake_google):
    UserFactory(email="mobile@example.com", email_verified=True)
    earlier = _login(api_client, "mobile@example.com")
    fake_google.person = Person(email="mobile@example.com")

    exchanged = api_client.post("/api/v1/auth/social/google", {"id_token": fake_google.id_token()}, format="json")

    assert exchanged.status_code == 200, exchanged.content
    assert _refresh(api_client, earlier["refresh"]).status_code == 401
    assert _profile(api_client, exchanged.json()["access"]).status_code == 200


def test_password_reset_revokes_every_token(api_client, mailoutbox):
    UserFactory(email="reset@example.com")
    stolen = _login(api_client, "reset@example.com")
    browser = Client()
    browser.post("/accounts/password/reset/", {"email": "reset@example.com"})
    reset_path = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/[^\s]+)", mailoutbox[-1].body).group(1)
    form_page = browser.get(reset_path, follow=True)
    new_password = "an-entirely-new-passphrase-77"

    done = browser.post(form_page.redirect_chain[-1][0], {"password1": new_password, "password2": new_password})

    assert done.status_code == 302
    assert _refresh(api_client, stolen["refresh"]).status_code == 401
    assert _profile(api_client, stolen["access"]).status_code == 401
    assert _refresh(api_client, _login(api_client, "reset@example.com", new_password)["refresh"]).status_code == 200


def test_password_change_revokes_every_token(api_client):
    user = UserFactory(email="change@example.com")
    earlier = _login(api_client, "change@example.com")
    browser = Client()
    browser.force_login(user)
    new_password = "an-entirely-new-passphrase-78"

    browser.post(
        "/accounts/password/change/", {"oldpassword": PASSWORD, "password1": new_password, "password2": new_password}
    )

    assert _refresh(api_client, earlier["refresh"]).status_code == 401


def test_deactivating_a_user_in_the_admin_revokes_their_tokens(api_client, admin_client):
    user = UserFactory(email="leaver@example.com")
    earlier = _login(api_client, "leaver@example.com")
    page = admin_client.get(f"/admin/accounts/user/{user.pk}/change/")
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
    data.update({"is_active": "", "organization": user.organization_id, "groups": [], "user_permissions": []})

    admin_client.post(f"/admin/accounts/user/{user.pk}/change/", data)

    user.refresh_from_db()
    assert not user.is_active
    assert user.token_version == 1
    user.is_active = True
    user.save()
    assert _refresh(api_client, earlier["refresh"]).status_code == 401
