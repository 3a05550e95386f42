"""Login throttles that cannot be side-stepped (issue #8 item 7): the client address is the one our
proxies saw, every spelling of an address counts against the one account it reaches, and five
failures lock the account for five minutes on the API and the web sign-in alike."""

import pytest
from django.test import Client, override_settings
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-9"


def login(client, email, password=PASSWORD, **headers):
    return client.post("/api/v1/auth/login", {"email": email, "password": password}, format="json", **headers)


def test_a_client_sent_x_forwarded_for_does_not_buy_a_new_ip_bucket(api_client, monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"auth_ip": "2/min", "auth_email": "100/min"})
    login(api_client, "a1@example.com", "x", HTTP_X_FORWARDED_FOR="198.51.100.1")
    login(api_client, "a2@example.com", "x", HTTP_X_FORWARDED_FOR="198.51.100.2")

    response = login(api_client, "a3@example.com", "x", HTTP_X_FORWARDED_FOR="198.51.100.3")

    assert response.status_code == 429


@override_settings(TRUSTED_PROXY_HOPS=1)
def test_behind_a_trusted_proxy_the_address_it_saw_is_the_client(api_client, monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"auth_ip": "2/min", "auth_email": "100/min"})
    for number in (1, 2):  # the client forges the left part; our proxy appends the real address
        login(api_client, f"b{number}@example.com", "x", HTTP_X_FORWARDED_FOR=f"10.9.9.{number}, 203.0.113.7")
    assert login(api_client, "b3@example.com", "x", HTTP_X_FORWARDED_FOR="10.9.9.3, 203.0.113.7").status_code == 429

    assert login(api_client, "b4@example.com", "x", HTTP_X_FORWARDED_FOR="203.0.113.8").status_code == 401


def test_five_failures_lock_the_account_for_five_minutes_even_with_the_right_password(api_client):
    UserFactory(email="sam@site.com")
    for _ in range(5):
        assert login(api_client, "sam@site.com", "wrong").status_code == 401

    locked = login(api_client, "sam@site.com")

    assert locked.status_code == 429
    assert locked.json()["code"] == "too_many_login_attempts"
    assert int(locked["Retry-After"]) == 300


def test_another_spelling_of_the_address_shares_the_lockout(api_client):
    """`ſ` (long s) is `s` after NFKC: `sam@ſite.com` is sam@site.com's address, with sam's counter."""
    UserFactory(email="sam@site.com")
    for spelling in ["sam@site.com", "SAM@SITE.COM", "sam@ſite.com", "Sam@Site.com", "sam@ſite.com"]:
        assert login(api_client, spelling, "wrong").status_code == 401

    assert login(api_client, "sam@ſite.com").status_code == 429
    assert login(api_client, "sam@site.com").status_code == 429


def test_a_dotless_i_address_does_not_log_in_as_the_dotted_one(api_client):
    """PostgreSQL's UPPER() folds `ı` to `I`, so `email__iexact` matched `sam@sıte.com` to sam@site.com."""
    UserFactory(email="sam@site.com")

    response = login(api_client, "sam@sıte.com")

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


def test_failures_on_the_web_sign_in_lock_the_api_login_too(api_client):
    UserFactory(email="web@example.com")
    browser = Client()
    for _ in range(5):
        browser.post("/accounts/login/", {"login": "web@example.com", "password": "wrong"})

    assert login(api_client, "web@example.com").status_code == 429


def test_a_successful_login_does_not_use_up_the_failure_budget(api_client):
    UserFactory(email="often@example.com")
    for _ in range(6):
        assert login(api_client, "often@example.com").status_code == 200


def test_addresses_are_stored_in_normal_form(api_client):
    response = api_client.post(
        "/api/v1/auth/register", {"email": "Sam@ＥＸＡＭＰＬＥ.com", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 201
    assert User.objects.filter(email="sam@example.com").exists()
    assert login(api_client, "sam@example.com").status_code == 200


@pytest.mark.parametrize("email", ["nul\x00@example.com", "x" * 5000, "not an address"])
def test_a_garbage_address_is_a_400_not_a_500(api_client, email):
    response = login(api_client, email, "x")

    assert response.status_code == 400
    assert "email" in response.json()["fields"]
