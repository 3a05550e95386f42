"""Google and Apple sign-in on the web, end to end: allauth's real providers against the fake
OAuth/OIDC servers (testing/fakes/oidc_provider.py), through the site's own URLs."""

from urllib.parse import urlparse

import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from rest_framework.test import APIClient

from accounts.models import AuthProvider, User
from accounts.services import register_user
from billing.models import AccountStatus, BillingAccount
from billing.tests.account_factories import make_plan
from tenants.models import Role
from testing.fakes.oidc_provider import Person, read_form_post

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-unusual-passphrase-42"


@pytest.fixture
def trial_plan(db):
    return make_plan(settings.TRIAL_PLAN)


def _follow(client, location: str):
    url = urlparse(location)
    return client.get(f"{url.path}?{url.query}")


def google_sign_in(client, fake):
    """Press "Sign in with Google", let the fake approve, come back to allauth's callback."""
    start = client.post("/accounts/google/login/", {"process": "login"})
    assert start["Location"].startswith(fake.authorize_url)
    approval = requests.get(start["Location"], allow_redirects=False, timeout=5)
    assert approval.status_code == 302, approval.text
    return _follow(client, approval.headers["Location"])


def apple_sign_in(client, fake):
    """Press "Sign in with Apple"; Apple answers with a page that posts the result back (form_post)."""
    start = client.post("/accounts/apple/login/", {"process": "login"})
    assert start["Location"].startswith(fake.authorize_url)
    page = requests.get(start["Location"], timeout=5)
    assert page.status_code == 200, page.text
    action, fields = read_form_post(page.text)
    posted = client.post(urlparse(action).path, fields)
    return _follow(client, posted["Location"])


SIGN_IN = {"google": google_sign_in, "apple": apple_sign_in}


def signed_in_user(client) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def test_new_person_signs_up_through_google_with_an_organization_and_a_trial(client, fake_google, trial_plan):
    fake_google.person = Person(email="New.Person@Example.com", given_name="New", family_name="Person")

    response = google_sign_in(client, fake_google)

    assert response.status_code == 302
    user = signed_in_user(client)
    assert user.email == "new.person@example.com"
    assert user.auth_provider == AuthProvider.GOOGLE
    assert user.email_verified
    assert user.role == Role.OWNER
    assert SocialAccount.objects.get(provider="google", uid=fake_google.person.sub).user == user
    account = BillingAccount.objects.get(organization=user.organization)
    assert account.status == AccountStatus.TRIALING
    assert account.plan == trial_plan
    token_calls = [form for method, path, form in fake_google.requests if method == "POST"]
    assert [form["client_secret"] for form in token_calls] == [fake_google.client_secret]


def test_returning_google_user_signs_in_to_the_same_account(client, fake_google, trial_plan):
    google_sign_in(client, fake_google)
    first = signed_in_user(client)
    client.logout()

    google_sign_in(client, fake_google)

    assert signed_in_user(client) == first
    assert User.objects.count() == 1


def test_google_sign_in_connects_to_an_existing_account_with_a_verified_email(client, fake_google, trial_plan):
    existing = register_user(email="owner@example.com", password=PASSWORD, email_verified=True)
    fake_google.person = Person(email="owner@example.com")

    google_sign_in(client, fake_google)

    assert signed_in_user(client) == existing
    assert SocialAccount.objects.get(provider="google").user == existing
    assert User.objects.count() == 1


def test_new_person_signs_up_through_apple_with_the_name_apple_sends_once(client, fake_apple, trial_plan):
    fake_apple.person = Person(email="abc123@privaterelay.appleid.com", is_private_email=True, given_name="Ann")

    response = apple_sign_in(client, fake_apple)

    assert response.status_code == 302
    user = signed_in_user(client)
    assert user.email == "abc123@privaterelay.appleid.com"
    assert user.auth_provider == AuthProvider.APPLE
    assert user.email_verified
    assert user.name == "Ann Doe"
    assert SocialAccount.objects.get(provider="apple", uid=fake_apple.person.sub).user == user
    assert BillingAccount.objects.get(organization=user.organization).status == AccountStatus.TRIALING
    [token_call] = [form for method, path, form in fake_apple.requests if method == "POST"]
    assert token_call["client_id"] == fake_apple.client_id


def test_apple_sign_in_connects_to_an_existing_account_with_a_verified_email(client, fake_apple, trial_plan):
    existing = register_user(email="owner@example.com", password=PASSWORD, email_verified=True)
    fake_apple.person = Person(email="owner@example.com")

    apple_sign_in(client, fake_apple)

    assert signed_in_user(client) == existing
    assert SocialAccount.objects.get(provider="apple").user == existing
    assert User.objects.count() == 1


@pytest.mark.parametrize("provider", ["google", "apple"])
def test_sign_in_never_takes_over_an_account_whose_address_is_unverified(client, request, provider, trial_plan):
    """Issue #8 item 1: someone registers the victim's address first and waits for their Google/Apple sign-in."""
    fake = request.getfixturevalue(f"fake_{provider}")
    registered = APIClient().post(
        "/api/v1/auth/register", {"email": "victim@example.com", "password": PASSWORD}, format="json"
    )
    assert registered.status_code == 201
    squatted = User.objects.get(email="victim@example.com")
    fake.person = Person(email="victim@example.com")

    SIGN_IN[provider](client, fake)

    assert signed_in_user(client) != squatted
    assert not SocialAccount.objects.filter(user=squatted).exists()
