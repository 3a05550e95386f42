"""The SSRF guard with WEBHOOKS_ALLOW_PRIVATE=0, as in production: no endpoint may lead to a private,
loopback, link-local, multicast or reserved address, neither when registered nor when a delivery is sent."""

import pytest

from webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.services import emit

pytestmark = pytest.mark.django_db

PATH = "/api/v1/webhook-endpoints"


@pytest.fixture
def guarded(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    return settings


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hooks",
        "http://127.8.9.10:8080/hooks",
        "http://10.0.0.7/hooks",
        "http://172.16.5.4/hooks",
        "http://192.168.1.1/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hooks",
        "http://[fe80::1]/hooks",
        "http://[fd00::1]/hooks",
        "http://[::ffff:127.0.0.1]/hooks",
        "http://0.0.0.0/hooks",
        "http://224.0.0.1/hooks",
        "http://240.0.0.1/hooks",
        "http://100.64.0.1/hooks",
        "http://localhost/hooks",
    ],
)
def test_a_private_address_or_a_name_resolving_to_one_is_refused_at_registration(org, guarded, url):
    response = org.api.post(PATH, {"url": url, "events": ["lead.created"]}, format="json")

    assert response.status_code == 400
    assert "not a public address" in response.json()["fields"]["url"][0]
    assert not WebhookEndpoint.objects.exists()


def test_a_name_that_does_not_resolve_is_refused(org, guarded):
    response = org.api.post(
        PATH, {"url": "https://no-such-host.invalid/hooks", "events": ["lead.created"]}, format="json"
    )

    assert response.status_code == 400
    assert "could not be resolved" in response.json()["fields"]["url"][0]


def test_a_public_address_is_accepted(org, guarded):
    response = org.api.post(PATH, {"url": "https://93.184.215.14/hooks", "events": ["lead.created"]}, format="json")

    assert response.status_code == 201


def test_changing_the_url_to_a_private_address_is_refused(org, guarded):
    endpoint_id = org.api.post(PATH, {"url": "https://93.184.215.14/hooks", "events": ["lead.created"]}, format="json")
    endpoint_id = endpoint_id.json()["id"]

    response = org.api.patch(f"{PATH}/{endpoint_id}", {"url": "http://10.1.1.1/"}, format="json")

    assert response.status_code == 400
    assert WebhookEndpoint.objects.get().url == "https://93.184.215.14/hooks"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_an_address_that_became_private_is_refused_when_sending(org, receiver, committed, settings, host):
    """Registered while private addresses were allowed (as a name that resolved elsewhere then would be);
    at send time the guard resolves again and sends nothing."""
    response = org.api.post(
        PATH, {"url": f"http://{host}:{receiver.port}/hooks", "events": ["lead.created"]}, format="json"
    )
    assert response.status_code == 201
    settings.WEBHOOKS_ALLOW_PRIVATE = False

    with committed():
        emit(organization=org.organization, event_type="lead.created", payload={})

    assert receiver.received == []
    attempt = WebhookAttempt.objects.get()
    assert attempt.error.startswith("Refused:") and "not a public address" in attempt.error
    assert attempt.status_code is None and not attempt.succeeded
    assert WebhookDelivery.objects.get().status == DeliveryStatus.PENDING
