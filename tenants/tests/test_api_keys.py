import hashlib

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import UserFactory
from tenants.models import ApiKey, AuditEvent, Role
from tenants.services import create_api_key

pytestmark = pytest.mark.django_db

URL = "/api/v1/api-keys"


def jwt_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def key_client(secret: str, scheme: str = "Api-Key") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {secret}")
    return client


def test_key_lifecycle_create_use_list_revoke_then_401(auth_client):
    created = auth_client.post(URL, {"name": "backend"}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    secret = body["key"]
    assert secret.startswith("bg_" + body["prefix"])

    profile = key_client(secret).get("/api/v1/auth/profile")
    assert profile.status_code == 200
    assert profile.json()["organization"]["id"] == auth_client.user.organization_id

    listed = auth_client.get(URL)
    assert listed.status_code == 200
    [row] = listed.json()["results"]
    assert row["prefix"] == body["prefix"]
    assert row["is_active"] is True
    assert secret not in listed.content.decode()

    assert auth_client.delete(f"{URL}/{body['id']}").status_code == 204

    after = key_client(secret).get("/api/v1/auth/profile")
    assert after.status_code == 401
    assert after.json()["code"] == "invalid_api_key"
    assert auth_client.get(f"{URL}/{body['id']}").json()["is_active"] is False


def test_create_and_revoke_each_write_one_audit_row(auth_client):
    key_id = auth_client.post(URL, {"name": "ci"}, format="json").json()["id"]
    auth_client.delete(f"{URL}/{key_id}")
    auth_client.delete(f"{URL}/{key_id}")

    actions = list(
        AuditEvent.objects.filter(target_id=str(key_id), target_type="tenants.apikey").values_list("action", "actor")
    )
    assert sorted(actions) == [("api_key.created", auth_client.user.pk), ("api_key.revoked", auth_client.user.pk)]


def test_secret_is_stored_only_as_its_sha256(auth_client):
    body = auth_client.post(URL, {"name": "hashing"}, format="json").json()
    stored = ApiKey.objects.get(pk=body["id"])
    assert stored.key_hash == hashlib.sha256(body["key"].encode()).hexdigest()
    assert body["key"] not in str(ApiKey.objects.filter(pk=body["id"]).values().get())


def test_admin_can_manage_keys():
    admin = UserFactory(role=Role.ADMIN)
    client = jwt_client(admin)
    key_id = client.post(URL, {"name": "by admin"}, format="json").json()["id"]
    assert client.get(URL).json()["count"] == 1
    assert client.delete(f"{URL}/{key_id}").status_code == 204


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [("get", URL, None), ("post", URL, {"name": "x"}), ("get", "{key}", None), ("delete", "{key}", None)],
)
def test_member_gets_403_forbidden_role(method, path, data):
    owner = UserFactory()
    member = UserFactory(organization=owner.organization, role=Role.MEMBER)
    key, _ = create_api_key(organization=owner.organization, name="owner's", actor=owner)

    response = getattr(jwt_client(member), method)(path.format(key=f"{URL}/{key.pk}"), data, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden_role"
    assert ApiKey.objects.get(pk=key.pk).revoked_at is None
    assert ApiKey.objects.count() == 1


def test_an_api_key_cannot_manage_keys():
    owner = UserFactory()
    _, secret = create_api_key(organization=owner.organization, name="automation", actor=owner)

    response = key_client(secret).post(URL, {"name": "minted by a key"}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "session_required"
    assert ApiKey.objects.count() == 1


def test_another_organizations_key_is_404_and_stays_active(auth_client):
    stranger = UserFactory()
    key, secret = create_api_key(organization=stranger.organization, name="theirs", actor=stranger)

    assert auth_client.get(f"{URL}/{key.pk}").status_code == 404
    response = auth_client.delete(f"{URL}/{key.pk}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert auth_client.get(URL).json()["count"] == 0
    assert key_client(secret).get("/api/v1/auth/profile").status_code == 200


def test_secret_never_shown_by_detail_list_or_admin(auth_client, client):
    body = auth_client.post(URL, {"name": "secretive"}, format="json").json()
    stored = ApiKey.objects.get(pk=body["id"])
    client.force_login(UserFactory(is_staff=True, is_superuser=True, organization=None))

    pages = [
        auth_client.get(URL).content.decode(),
        auth_client.get(f"{URL}/{body['id']}").content.decode(),
        client.get("/admin/tenants/apikey/").content.decode(),
        client.get(f"/admin/tenants/apikey/{body['id']}/change/").content.decode(),
    ]

    for page in pages:
        assert body["prefix"] in page
        assert body["key"] not in page
        assert stored.key_hash not in page


def test_using_a_key_records_last_used_at(auth_client):
    body = auth_client.post(URL, {"name": "used"}, format="json").json()
    assert body["last_used_at"] is None
    before = timezone.now()

    key_client(body["key"], scheme="api-key").get("/api/v1/auth/profile")

    last_used = ApiKey.objects.get(pk=body["id"]).last_used_at
    assert last_used is not None and last_used >= before
    assert auth_client.get(f"{URL}/{body['id']}").json()["last_used_at"] is not None


@pytest.mark.parametrize("secret", ["", "bg_nope", "bg_deadbeef_wrong", "not-a-key"])
def test_unknown_key_is_401(secret):
    owner = UserFactory()
    create_api_key(organization=owner.organization, name="real", actor=owner)

    response = key_client(secret).get("/api/v1/auth/profile")

    assert response.status_code == 401


def test_tampered_secret_with_a_real_prefix_is_401():
    owner = UserFactory()
    _, secret = create_api_key(organization=owner.organization, name="real", actor=owner)

    assert key_client(secret[:-2] + "xx").get("/api/v1/auth/profile").status_code == 401


@pytest.mark.parametrize(("data", "field"), [({}, "name"), ({"name": ""}, "name"), ({"name": "x" * 101}, "name")])
def test_invalid_name_is_400_with_the_field(auth_client, data, field):
    response = auth_client.post(URL, data, format="json")

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert ApiKey.objects.count() == 0


def test_list_is_paginated_newest_first(auth_client):
    for name in ["first", "second", "third"]:
        auth_client.post(URL, {"name": name}, format="json")

    page = auth_client.get(URL, {"limit": 2}).json()

    assert page["count"] == 3
    assert [row["name"] for row in page["results"]] == ["third", "second"]
    assert page["next"]


def test_list_query_count_does_not_grow_with_keys(auth_client, django_assert_max_num_queries):
    for index in range(20):
        create_api_key(organization=auth_client.user.organization, name=f"k{index}", actor=auth_client.user)

    with django_assert_max_num_queries(3):
        response = auth_client.get(URL)

    assert len(response.json()["results"]) == 20


def test_unauthenticated_is_401(api_client):
    assert api_client.get(URL).status_code == 401
