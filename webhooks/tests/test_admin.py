"""Operators find endpoints and deliveries in the console by search, never see a secret, and resend."""

import pytest

from accounts.tests.factories import UserFactory
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import emit

pytestmark = pytest.mark.django_db


@pytest.fixture
def console(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True, organization=None))
    return client


def test_endpoints_and_deliveries_are_found_by_search(console, org, endpoint_for, committed):
    endpoint_id, secret = endpoint_for()
    with committed():
        emit(organization=org.organization, event_type="payment.succeeded", payload={})
    delivery = WebhookDelivery.objects.get()

    endpoints = console.get("/admin/webhooks/webhookendpoint/", {"q": org.organization.name}).content.decode()
    deliveries = console.get("/admin/webhooks/webhookdelivery/", {"q": delivery.event_id}).content.decode()
    detail = console.get(f"/admin/webhooks/webhookendpoint/{endpoint_id}/change/").content.decode()
    delivery_page = console.get(f"/admin/webhooks/webhookdelivery/{delivery.pk}/change/").content.decode()

    assert WebhookEndpoint.objects.get().url in endpoints
    assert delivery.event_id in deliveries
    assert secret not in detail + endpoints
    assert "200" in delivery_page


def test_the_resend_action_sends_the_event_again(console, org, endpoint_for, receiver, committed):
    endpoint_for()
    with committed():
        emit(organization=org.organization, event_type="payment.succeeded", payload={})
    delivery = WebhookDelivery.objects.get()

    with committed():
        response = console.post(
            "/admin/webhooks/webhookdelivery/", {"action": "resend", "_selected_action": [delivery.pk]}
        )

    assert response.status_code == 302
    assert WebhookDelivery.objects.filter(event_id=delivery.event_id).count() == 2
    assert len(receiver.received) == 2


def test_disabling_in_the_console_goes_through_the_service(console, org, endpoint_for):
    endpoint_id, _ = endpoint_for()

    console.post("/admin/webhooks/webhookendpoint/", {"action": "disable", "_selected_action": [endpoint_id]})

    assert WebhookEndpoint.objects.get().is_active is False
    assert org.organization.audit_events.filter(action="webhook_endpoint.changed").exists()
