"""The per-process memo of API keys (`tenants.api_key_cache`): a key costs no query once seen, and every
change that should stop a key stops it — at once on this server, within POLL_SECONDS on the others."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.services import set_active
from accounts.tests.factories import UserFactory
from tenants import api_key_cache
from tenants.models import ApiKey, ApiKeysVersion
from tenants.selectors import api_key_from_secret
from tenants.services import create_api_key, revoke_api_key

pytestmark = pytest.mark.django_db


def key_client(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    return client


@pytest.fixture
def owner():
    return UserFactory(role=Role.OWNER)


@pytest.fixture
def secret(owner):
    return create_api_key(organization=owner.organization, name="ops", actor=owner)[1]


def test_a_seen_key_is_found_without_a_query(secret):
    assert api_key_from_secret(secret) is not None

    with CaptureQueriesContext(connection) as captured:
        key = api_key_from_secret(secret)

    assert key is not None
    assert [query["sql"] for query in captured.captured_queries] == []


def test_a_wrong_secret_with_a_seen_prefix_is_refused(secret):
    assert api_key_from_secret(secret) is not None

    assert api_key_from_secret(secret[:-4] + "AAAA") is None


def test_a_key_revoked_here_is_401_on_the_next_request(owner, secret):
    assert key_client(secret).get("/api/v1/agents").status_code == 200
    revoke_api_key(key=ApiKey.objects.get(organization=owner.organization), actor=owner)

    assert key_client(secret).get("/api/v1/agents").status_code == 401


def test_a_key_whose_creator_is_deactivated_is_401_on_the_next_request(owner, secret):
    assert key_client(secret).get("/api/v1/agents").status_code == 200
    set_active(user=owner, is_active=False)

    assert key_client(secret).get("/api/v1/agents").status_code == 401


def test_a_key_whose_creator_left_is_401_on_the_next_request(owner, secret):
    assert key_client(secret).get("/api/v1/agents").status_code == 200
    owner.organization = UserFactory().organization
    owner.save()

    assert key_client(secret).get("/api/v1/agents").status_code == 401


def test_a_key_revoked_on_another_server_is_401_within_the_poll_interval(secret):
    assert key_client(secret).get("/api/v1/agents").status_code == 200
    # What another server's revocation leaves in the database; this process was not told.
    ApiKey.objects.update(revoked_at=timezone.now())
    ApiKeysVersion.objects.filter(pk=1).update(token=api_key_cache.new_token())

    time.sleep(api_key_cache.POLL_SECONDS + 0.1)

    assert key_client(secret).get("/api/v1/agents").status_code == 401


def test_a_request_changing_its_user_leaves_the_memo_untouched(owner, secret):
    """Each request gets its own copy of the key's creator."""
    first = api_key_from_secret(secret)
    from tenants.selectors import api_key_principal

    principal = api_key_principal(first)
    principal.is_active = False

    assert api_key_principal(api_key_from_secret(secret)).is_active is True
