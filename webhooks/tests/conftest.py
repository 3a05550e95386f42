"""An owner, an admin and a member of one organization, a stranger in another, and a local receiver."""

import hashlib
import hmac
from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from testing.fakes.webhook_receiver import FakeReceiver


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    client.user = user
    return client


def verify(received, secret: str) -> dict[str, str]:
    """What a receiver does with a delivery: parse `t=…,v1=…` and compare the HMAC-SHA256 of `<t>.<body>`
    computed here from the secret it was given. Returns the parsed header; fails the test otherwise."""
    parts = dict(item.split("=", 1) for item in received.headers["BotGeneric-Signature"].split(","))
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + received.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, parts["v1"])
    return parts


@pytest.fixture
def receiver():
    fake = FakeReceiver().start()
    yield fake
    fake.stop()


@pytest.fixture
def org(db):
    from accounts.tests.factories import UserFactory
    from tenants.models import Role

    owner = UserFactory()
    admin = UserFactory(organization=owner.organization, role=Role.ADMIN)
    member = UserFactory(organization=owner.organization, role=Role.MEMBER)
    stranger = UserFactory()
    return SimpleNamespace(
        owner=owner,
        admin=admin,
        member=member,
        stranger=stranger,
        organization=owner.organization,
        api=client_for(owner),
    )


@pytest.fixture
def endpoint_for(org, receiver):
    """Register an endpoint of `org` through the API: (its id, its secret)."""

    def register(events=("payment.succeeded", "subscription.changed"), url=None, client=None):
        response = (client or org.api).post(
            "/api/v1/webhook-endpoints", {"url": url or receiver.url, "events": list(events)}, format="json"
        )
        assert response.status_code == 201, response.content
        return response.json()["id"], response.json()["secret"]

    return register


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed(): …` runs what the block queued for after commit, as a committed transaction would
    (the deliveries an event creates, their sending)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
