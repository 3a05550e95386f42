import pytest
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import User
from accounts.tests.factories import UserFactory
from tenants.models import Role

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-9"


def register(client, email="new@example.com", password=PASSWORD, **extra):
    return client.post("/api/v1/auth/register", {"email": email, "password": password, **extra}, format="json")


def login(client, email, password=PASSWORD):
    return client.post("/api/v1/auth/login", {"email": email, "password": password}, format="json")


def test_register_login_profile_refresh_logout_then_refresh_fails(api_client):
    response = register(api_client, email="Alice@Example.com", locale="ru")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["user"]["email"] == "alice@example.com"
    assert body["user"]["role"] == "owner"
    assert body["organization"]["id"] == body["user"]["organization"]["id"]

    tokens = login(api_client, "ALICE@example.com").json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    profile = api_client.get("/api/v1/auth/profile").json()
    assert profile["email"] == "alice@example.com"
    assert profile["locale"] == "ru"

    refreshed = api_client.post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert refreshed.status_code == 200
    new_refresh = refreshed.json()["refresh"]
    assert new_refresh != tokens["refresh"]

    rotated_again = api_client.post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert rotated_again.status_code == 401

    assert api_client.post("/api/v1/auth/logout", {"refresh": new_refresh}, format="json").status_code == 204
    after_logout = api_client.post("/api/v1/auth/refresh", {"refresh": new_refresh}, format="json")
    assert after_logout.status_code == 401
    assert after_logout.json()["code"] == "token_not_valid"


def test_register_creates_user_and_organization_in_one_go(api_client):
    register(api_client, email="owner@example.com")
    user = User.objects.get(email="owner@example.com")
    assert user.organization is not None
    assert user.role == Role.OWNER
    assert user.organization.audit_events.filter(action="user.registered").exists()


def test_duplicate_email_is_email_taken_case_insensitively(api_client):
    register(api_client, email="dup@example.com")
    response = register(api_client, email="DUP@example.com")
    assert response.status_code == 400
    assert response.json()["code"] == "email_taken"
    assert User.objects.filter(email__iexact="dup@example.com").count() == 1


def test_weak_password_returns_validator_messages(api_client):
    response = register(api_client, password="123")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "weak_password"
    assert any("too short" in message for message in body["fields"]["password"])
    assert not User.objects.filter(email="new@example.com").exists()


def test_invalid_email_is_a_field_error(api_client):
    response = register(api_client, email="not-an-email")
    assert response.status_code == 400
    assert "email" in response.json()["fields"]


def test_wrong_password_is_invalid_credentials(api_client):
    user = UserFactory()
    response = login(api_client, user.email, "wrong-password")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


def test_unknown_email_is_invalid_credentials(api_client):
    response = login(api_client, "nobody@example.com")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


def test_inactive_user_cannot_log_in(api_client):
    user = UserFactory(is_active=False)
    response = login(api_client, user.email)
    assert response.status_code == 403
    assert response.json()["code"] == "user_inactive"


def test_unsupported_locale_is_400(auth_client):
    response = auth_client.put("/api/v1/auth/locale", {"locale": "de"}, format="json")
    assert response.status_code == 400
    assert "locale" in response.json()["fields"]


def test_locale_switch_is_stored(auth_client):
    response = auth_client.put("/api/v1/auth/locale", {"locale": "ru"}, format="json")
    assert response.status_code == 200
    auth_client.user.refresh_from_db()
    assert auth_client.user.locale == "ru"


def test_profile_patch_updates_name_only_for_self(auth_client):
    response = auth_client.patch("/api/v1/auth/profile", {"name": "Renamed"}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "Renamed"


@pytest.mark.parametrize("path", ["/api/v1/auth/register", "/api/v1/auth/login"])
def test_malformed_json_is_400_not_500(api_client, path):
    response = api_client.generic("POST", path, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_profile_requires_authentication(api_client):
    response = api_client.get("/api/v1/auth/profile")
    assert response.status_code == 401


def test_two_organizations_see_only_their_own_profile(api_client):
    register(api_client, email="a@example.com")
    register(api_client, email="b@example.com")
    for email in ("a@example.com", "b@example.com"):
        tokens = login(api_client, email).json()
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
        profile = api_client.get("/api/v1/auth/profile").json()
        assert profile["email"] == email
        assert profile["organization"]["id"] == User.objects.get(email=email).organization_id
    assert (
        User.objects.get(email="a@example.com").organization_id
        != User.objects.get(email="b@example.com").organization_id
    )


def test_login_is_throttled_per_email_with_retry_after(api_client, monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"auth_ip": "100/min", "auth_email": "3/min"})
    for _ in range(3):
        assert login(api_client, "victim@example.com", "guess").status_code == 401
    response = login(api_client, "victim@example.com", "guess")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["code"] == "throttled"
    assert login(api_client, "other@example.com", "guess").status_code == 401


def test_login_is_throttled_per_ip(api_client, monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"auth_ip": "2/min", "auth_email": "100/min"})
    login(api_client, "a1@example.com", "x")
    login(api_client, "a2@example.com", "x")
    response = login(api_client, "a3@example.com", "x")
    assert response.status_code == 429
    assert "Retry-After" in response


def test_register_is_throttled_per_ip(api_client, monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"auth_ip": "1/min", "auth_email": "100/min"})
    register(api_client, email="first@example.com")
    response = register(api_client, email="second@example.com")
    assert response.status_code == 429
    assert not User.objects.filter(email="second@example.com").exists()


def test_a_token_of_a_deactivated_user_is_refused_with_user_inactive(api_client):
    from rest_framework_simplejwt.tokens import RefreshToken

    user = UserFactory()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    User.objects.filter(pk=user.pk).update(is_active=False)
    response = api_client.get("/api/v1/auth/profile")
    assert response.status_code == 403
    assert response.json()["code"] == "user_inactive"


def test_a_garbled_access_token_is_401_token_not_valid(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")
    response = api_client.get("/api/v1/auth/profile")
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"
