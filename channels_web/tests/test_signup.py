import base64
import hashlib
import hmac
import json
import re
import time
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import override_settings

from accounts.models import AuthProvider, User
from accounts.tests.factories import UserFactory
from tenants.models import AuditEvent, Role

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-unusual-passphrase-42"
BOT_TOKEN = "123456:test-bot-token"
TELEGRAM_PROVIDERS = {"telegram": {"APPS": [{"client_id": "123456", "secret": BOT_TOKEN}]}}


def test_web_signup_creates_an_owner_with_an_organization(client):
    response = client.post(
        "/accounts/signup/", {"email": "New@Example.com", "password1": PASSWORD, "password2": PASSWORD}
    )

    assert response.status_code == 302
    user = User.objects.get(email="new@example.com")
    assert user.organization is not None
    assert user.role == Role.OWNER
    assert user.auth_provider == AuthProvider.EMAIL
    assert AuditEvent.objects.filter(action="user.registered", organization=user.organization).exists()
    assert client.get("/profile/").status_code == 200


def test_web_signup_takes_the_page_language_as_locale(client):
    client.cookies["django_language"] = "ru"

    client.post("/accounts/signup/", {"email": "ru@example.com", "password1": PASSWORD, "password2": PASSWORD})

    assert User.objects.get(email="ru@example.com").locale == "ru"


def test_web_signup_with_a_weak_password_shows_the_error_inline(client):
    response = client.post("/accounts/signup/", {"email": "weak@example.com", "password1": "123", "password2": "123"})

    assert response.status_code == 200
    assert b"errorlist" in response.content
    assert not User.objects.filter(email="weak@example.com").exists()


def test_signup_with_a_taken_email_creates_no_second_account(client):
    UserFactory(email="taken@example.com")

    client.post("/accounts/signup/", {"email": "taken@example.com", "password1": PASSWORD, "password2": PASSWORD})

    assert User.objects.filter(email__iexact="taken@example.com").count() == 1


def test_login_and_logout_with_email_and_password(client):
    user = UserFactory(email="login@example.com")

    response = client.post("/accounts/login/", {"login": "login@example.com", "password": "correct-horse-battery-9"})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)

    client.post("/accounts/logout/")
    assert "_auth_user_id" not in client.session


def test_password_reset_sends_an_email(client, mailoutbox):
    UserFactory(email="forgot@example.com")

    response = client.post("/accounts/password/reset/", {"email": "forgot@example.com"})

    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert "forgot@example.com" in mailoutbox[0].to


def test_login_page_uses_the_site_layout_and_no_social_buttons_without_credentials(client):
    response = client.get("/accounts/login/")

    assert b"app.css" in response.content
    assert b"provider-telegram" not in response.content
    assert b"provider-google" not in response.content


@override_settings(
    SOCIALACCOUNT_PROVIDERS={
        **TELEGRAM_PROVIDERS,
        "google": {"APPS": [{"client_id": "google-id", "secret": "google-secret"}]},
    }
)
def test_configured_providers_get_a_button(client):
    response = client.get("/accounts/login/")

    assert b"provider-telegram" in response.content
    assert b"provider-google" in response.content


def _telegram_login(client, payload: dict):
    """Run allauth's real Telegram flow: start, then post the widget's signed result to the callback."""
    start = client.get("/accounts/telegram/login/", {"process": "login"})
    if start.status_code == 200:  # allauth asks for a POST confirmation on GET
        start = client.post("/accounts/telegram/login/", {"process": "login"})
    return_to = parse_qs(urlparse(start["Location"]).query)["return_to"][0]
    state = parse_qs(urlparse(return_to).query)["state"][0]
    check = "\n".join(sorted(f"{key}={value}" for key, value in payload.items()))
    signed = {
        **payload,
        "hash": hmac.new(hashlib.sha256(BOT_TOKEN.encode()).digest(), check.encode(), hashlib.sha256).hexdigest(),
    }
    result = base64.b64encode(json.dumps(signed).encode()).decode()
    return client.post(f"/accounts/telegram/login/callback/?state={state}", {"tgAuthResult": result})


@override_settings(SOCIALACCOUNT_PROVIDERS=TELEGRAM_PROVIDERS)
def test_telegram_signup_registers_a_customer_with_an_organization(client):
    response = _telegram_login(client, {"id": 777001, "first_name": "Ivan", "auth_date": int(time.time())})

    assert response.status_code == 302
    user = User.objects.get(telegram_id=777001)
    assert user.auth_provider == AuthProvider.TELEGRAM
    assert user.organization is not None
    assert user.role == Role.OWNER
    assert client.session["_auth_user_id"] == str(user.pk)


@override_settings(SOCIALACCOUNT_PROVIDERS=TELEGRAM_PROVIDERS)
def test_telegram_login_reuses_the_account_the_bot_created(client):
    existing = UserFactory(telegram_id=777002, email=None)

    _telegram_login(client, {"id": 777002, "first_name": "Bot", "auth_date": int(time.time())})

    assert User.objects.filter(telegram_id=777002).count() == 1
    assert client.session["_auth_user_id"] == str(existing.pk)


@override_settings(SOCIALACCOUNT_PROVIDERS=TELEGRAM_PROVIDERS)
def test_telegram_callback_with_a_forged_hash_signs_nobody_in(client):
    start = client.post("/accounts/telegram/login/", {"process": "login"})
    state = parse_qs(urlparse(parse_qs(urlparse(start["Location"]).query)["return_to"][0]).query)["state"][0]
    forged = base64.b64encode(json.dumps({"id": 1, "auth_date": int(time.time()), "hash": "0" * 64}).encode())

    client.post(f"/accounts/telegram/login/callback/?state={state}", {"tgAuthResult": forged.decode()})

    assert not User.objects.filter(telegram_id=1).exists()
    assert "_auth_user_id" not in client.session


@override_settings(ACCOUNT_EMAIL_VERIFICATION="mandatory")
def test_mandatory_verification_marks_the_user_verified_after_the_link(client, mailoutbox):
    client.post("/accounts/signup/", {"email": "verify@example.com", "password1": PASSWORD, "password2": PASSWORD})
    user = User.objects.get(email="verify@example.com")
    assert not user.email_verified
    assert "_auth_user_id" not in client.session

    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+)", mailoutbox[-1].body).group(1)
    client.post(link)

    user.refresh_from_db()
    assert user.email_verified
