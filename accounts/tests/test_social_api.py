"""POST /api/v1/auth/social/{provider}: Google and Apple ID tokens, as a mobile SDK receives them
from the fake providers (testing/fakes/oidc_provider.py), exchanged for our JWT pair."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from allauth.socialaccount.models import SocialAccount
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import AuthProvider, User
from accounts.services import register_user
from billing.models import AccountStatus, BillingAccount
from billing.tests.account_factories import make_plan
from testing.fakes.oidc_provider import Person

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-unusual-passphrase-42"


@pytest.fixture
def trial_plan(db):
    return make_plan(settings.TRIAL_PLAN)


@pytest.fixture(params=["google", "apple"])
def provider(request):
    """Each test runs against both providers' fakes: `.name` and the `.fake`."""
    request.getfixturevalue("trial_plan")
    fake = request.getfixturevalue(f"fake_{request.param}")
    fake.provider_name = request.param
    return fake


def exchange(api_client, fake, token: str, **body):
    return api_client.post(f"/api/v1/auth/social/{fake.provider_name}", {"id_token": token, **body}, format="json")


def profile(api_client, tokens: dict) -> dict:
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    response = api_client.get("/api/v1/auth/profile")
    api_client.credentials()
    assert response.status_code == 200, response.content
    return response.json()


def test_a_new_identity_gets_an_account_an_organization_and_a_trial(api_client, provider):
    provider.person = Person(email="New@Example.com", given_name="Nia", family_name="Ng")

    response = exchange(api_client, provider, provider.id_token())

    assert response.status_code == 200, response.content
    me = profile(api_client, response.json())
    assert me["email"] == "new@example.com"
    assert me["auth_provider"] == provider.provider_name
    assert me["email_verified"] is True
    assert me["role"] == "owner"
    assert me["plan"]["status"] == AccountStatus.TRIALING
    user = User.objects.get(email="new@example.com")
    assert BillingAccount.objects.get(organization=user.organization).plan.code == settings.TRIAL_PLAN
    assert SocialAccount.objects.get(provider=provider.provider_name, uid=provider.person.sub).user == user


def test_the_same_identity_signs_in_to_the_same_account(api_client, provider):
    first = exchange(api_client, provider, provider.id_token())
    second = exchange(api_client, provider, provider.id_token())

    assert second.status_code == 200
    assert profile(api_client, first.json())["id"] == profile(api_client, second.json())["id"]
    assert User.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("email_verified", [True, False])
def test_two_first_exchanges_of_one_identity_at_once_make_one_account(fake_google, email_verified):
    make_plan(settings.TRIAL_PLAN)
    fake_google.person = Person(email="racer@example.com", email_verified=email_verified)
    token = fake_google.id_token()
    barrier = threading.Barrier(2)

    def sign_in(_):
        barrier.wait()
        try:
            return APIClient().post("/api/v1/auth/social/google", {"id_token": token}, format="json")
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        responses = list(pool.map(sign_in, range(2)))

    assert [response.status_code for response in responses] == [200, 200]
    assert User.objects.count() == 1
    assert SocialAccount.objects.get().user == User.objects.get()


def test_google_takes_the_name_from_the_token(api_client, fake_google, trial_plan):
    fake_google.provider_name = "google"
    fake_google.person = Person(given_name="Grace", family_name="Hopper")

    response = exchange(api_client, fake_google, fake_google.id_token(), name="Someone Else")

    assert profile(api_client, response.json())["name"] == "Grace Hopper"


def test_apple_takes_the_name_the_app_passes_and_keeps_a_private_relay_address(api_client, fake_apple, trial_plan):
    fake_apple.provider_name = "apple"
    fake_apple.person = Person(email="x1y2@privaterelay.appleid.com", is_private_email=True)

    response = exchange(api_client, fake_apple, fake_apple.id_token(), name="Ann Apple")

    me = profile(api_client, response.json())
    assert me["name"] == "Ann Apple"
    assert me["email"] == "x1y2@privaterelay.appleid.com"
    assert me["auth_provider"] == AuthProvider.APPLE


def test_an_account_with_the_verified_address_gets_connected(api_client, provider):
    existing = register_user(email="owner@example.com", password=PASSWORD, email_verified=True)
    provider.person = Person(email="Owner@Example.com")

    response = exchange(api_client, provider, provider.id_token())

    assert response.status_code == 200, response.content
    assert profile(api_client, response.json())["id"] == existing.pk
    assert SocialAccount.objects.get(provider=provider.provider_name).user == existing
    assert User.objects.count() == 1


def test_an_account_with_an_unverified_address_is_not_taken_over(api_client, provider):
    registered = api_client.post(
        "/api/v1/auth/register", {"email": "victim@example.com", "password": PASSWORD}, format="json"
    )
    assert registered.status_code == 201
    provider.person = Person(email="victim@example.com")

    response = exchange(api_client, provider, provider.id_token())

    assert response.status_code == 409
    assert response.json()["code"] == "email_taken"
    assert not SocialAccount.objects.exists()
    assert User.objects.count() == 1


def test_an_address_the_provider_did_not_verify_connects_to_nothing(api_client, provider):
    register_user(email="owner@example.com", password=PASSWORD, email_verified=True)
    provider.person = Person(email="owner@example.com", email_verified=False)

    response = exchange(api_client, provider, provider.id_token())

    assert response.status_code == 409
    assert not SocialAccount.objects.exists()


def test_a_new_identity_with_an_unverified_address_gets_an_unverified_account(api_client, provider):
    provider.person = Person(email="unverified@example.com", email_verified=False)

    response = exchange(api_client, provider, provider.id_token())

    assert response.status_code == 200
    assert profile(api_client, response.json())["email_verified"] is False


def test_a_new_identity_with_an_unverified_address_is_mailed_our_confirmation_link(
    api_client, provider, mailoutbox, django_capture_on_commit_callbacks
):
    provider.person = Person(email="confirm-me@example.com", email_verified=False)

    with django_capture_on_commit_callbacks(execute=True):
        exchange(api_client, provider, provider.id_token())

    assert [mail.to for mail in mailoutbox] == [["confirm-me@example.com"]]
    assert "/accounts/confirm-email/" in mailoutbox[0].body


def test_new_identities_count_against_the_sign_up_limit_per_address(api_client, provider, settings):
    settings.SIGNUP_THROTTLE_IP = "2/hour"
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "signup": "2/3600s/ip"}
    people = [Person(email=f"new{number}@example.com") for number in range(2)]
    for person in people:
        assert exchange(api_client, provider, provider.id_token(person)).status_code == 200

    provider.person = Person(email="new2@example.com")
    third = exchange(api_client, provider, provider.id_token())

    assert third.status_code == 429
    assert int(third["Retry-After"]) > 0
    assert not User.objects.filter(email="new2@example.com").exists()
    assert exchange(api_client, provider, provider.id_token(people[0])).status_code == 200  # a sign-in, no sign-up


def test_an_expired_token_is_refused(api_client, provider):
    response = exchange(api_client, provider, provider.id_token(expires_in=-300))

    assert response.status_code == 400
    assert response.json()["code"] == "token_expired"
    assert not User.objects.exists()


def test_a_token_issued_to_another_app_is_refused(api_client, provider):
    response = exchange(api_client, provider, provider.id_token(audience="someone-elses-client-id"))

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_audience"
    assert not User.objects.exists()


def test_a_token_signed_by_a_key_the_provider_does_not_publish_is_refused(api_client, provider):
    forged_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    response = exchange(api_client, provider, provider.id_token(signing_key=forged_key))

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_token"
    assert not User.objects.exists()


def test_a_token_from_another_issuer_is_refused(api_client, provider):
    response = exchange(api_client, provider, provider.id_token(issuer="https://issuer.example"))

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_token"


def test_a_google_token_is_not_an_apple_token(api_client, fake_google, fake_apple, trial_plan):
    fake_apple.provider_name = "apple"

    response = exchange(api_client, fake_apple, fake_google.id_token(audience=fake_apple.client_id))

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_token"


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c"])
def test_a_malformed_token_is_bad_input(api_client, fake_google, token):
    fake_google.provider_name = "google"

    response = exchange(api_client, fake_google, token)

    assert response.status_code == 400
    assert response.json()["code"] in {"invalid", "invalid_token"}


def test_a_deactivated_account_gets_no_tokens(api_client, provider):
    exchange(api_client, provider, provider.id_token())
    User.objects.update(is_active=False)

    response = exchange(api_client, provider, provider.id_token())

    assert response.status_code == 403
    assert response.json()["code"] == "user_inactive"


@pytest.mark.parametrize("name", ["google", "apple"])
def test_an_unconfigured_provider_answers_provider_disabled(api_client, settings, name):
    settings.SOCIALACCOUNT_PROVIDERS = {}

    response = api_client.post(f"/api/v1/auth/social/{name}", {"id_token": "x.y.z"}, format="json")

    assert response.status_code == 404
    assert response.json()["code"] == "provider_disabled"


def test_unreachable_provider_keys_answer_502(api_client, fake_google, settings):
    fake_google.provider_name = "google"
    token = fake_google.id_token()
    fake_google.stop()

    response = exchange(api_client, fake_google, token)

    assert response.status_code == 502
    assert response.json()["code"] == "provider_unavailable"


def test_the_exchange_is_in_the_openapi_schema(client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()

    operation = schema["paths"]["/api/v1/auth/social/{provider}"]["post"]
    assert set(operation["responses"]) >= {"200", "400", "404", "409", "502"}
    [parameter] = [p for p in operation["parameters"] if p["name"] == "provider"]
    assert sorted(parameter["schema"]["enum"]) == ["apple", "google"]
