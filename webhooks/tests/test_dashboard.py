"""The dashboard's webhooks pages: owners and admins register endpoints (the secret shown once), edit and
delete them, read the deliveries log and resend; members and other organizations get nothing."""

import pytest
from django.test import Client
from django.utils import translation

from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import emit

pytestmark = pytest.mark.django_db


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_owner_adds_an_endpoint_and_sees_its_secret_once(org, receiver):
    web = browser(org.owner)

    response = web.post(
        "/webhooks/new/", {"url": receiver.url, "events": ["lead.created", "member.joined"], "is_active": "on"}
    )

    assert response.status_code == 200
    secret = response.context["secret"]
    assert secret.startswith("whsec_") and secret in response.content.decode()
    endpoint = WebhookEndpoint.objects.get(organization=org.organization)
    assert endpoint.events == ["lead.created", "member.joined"] and endpoint.is_active is True
    for page in ("/webhooks/", f"/webhooks/{endpoint.pk}/"):
        shown = web.get(page)
        assert shown.status_code == 200 and receiver.url in shown.content.decode()
        assert secret not in shown.content.decode()


def test_a_private_address_is_refused_in_the_pages_language(org, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    web = browser(org.owner)
    org.owner.locale = "ru"
    org.owner.save(update_fields=["locale"])

    response = web.post("/webhooks/new/", {"url": "http://10.0.0.1/hooks", "events": ["lead.created"]})

    assert response.status_code == 400
    with translation.override("ru"):
        assert "публичном интернете" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_an_admin_edits_rotates_and_deletes(org, endpoint_for, receiver):
    endpoint_id, old_secret = endpoint_for()
    web = browser(org.admin)

    saved = web.post(
        f"/webhooks/{endpoint_id}/",
        {"url": receiver.url, "events": ["member.joined"], "description": "HR", "is_active": "on"},
    )
    rotated = web.post(f"/webhooks/{endpoint_id}/rotate/")
    endpoint = WebhookEndpoint.objects.get()

    assert saved.status_code == 302
    assert (endpoint.events, endpoint.description) == (["member.joined"], "HR")
    assert rotated.status_code == 200
    new_secret = rotated.context["secret"]
    assert new_secret != old_secret and new_secret in rotated.content.decode()
    assert web.post(f"/webhooks/{endpoint_id}/delete/").status_code == 302
    assert not WebhookEndpoint.objects.exists()


def test_the_deliveries_log_shows_status_and_code_and_resends(org, endpoint_for, receiver, committed):
    endpoint_id, _ = endpoint_for()
    receiver.default_status = 500
    with committed():
        emit(organization=org.organization, event_type="payment.succeeded", payload={})
    delivery = WebhookDelivery.objects.get()
    web = browser(org.owner)

    page = web.get(f"/webhooks/{endpoint_id}/").content.decode()
    receiver.default_status = 204
    with committed():
        resent = web.post(f"/webhooks/{endpoint_id}/deliveries/{delivery.pk}/resend/")

    assert delivery.event_id in page and "500" in page and "Resend" in page
    assert resent.status_code == 302
    again = WebhookDelivery.objects.exclude(pk=delivery.pk).get()
    assert (again.event_id, again.status, again.last_status_code) == (delivery.event_id, "succeeded", 204)


def test_members_get_no_webhooks_page(org, endpoint_for, receiver):
    endpoint_id, _ = endpoint_for()
    web = browser(org.member)

    assert web.get("/webhooks/").status_code == 403
    assert web.post("/webhooks/new/", {"url": receiver.url, "events": ["lead.created"]}).status_code == 403
    assert web.get(f"/webhooks/{endpoint_id}/").status_code == 403
    assert web.post(f"/webhooks/{endpoint_id}/delete/").status_code == 403
    assert WebhookEndpoint.objects.count() == 1


def test_another_organizations_endpoint_is_not_found(org, endpoint_for, committed):
    endpoint_id, _ = endpoint_for()
    with committed():
        emit(organization=org.organization, event_type="payment.succeeded", payload={})
    delivery = WebhookDelivery.objects.get()
    web = browser(org.stranger)

    assert web.get(f"/webhooks/{endpoint_id}/").status_code == 404
    assert web.post(f"/webhooks/{endpoint_id}/rotate/").status_code == 404
    assert web.post(f"/webhooks/{endpoint_id}/delete/").status_code == 404
    assert web.post(f"/webhooks/{endpoint_id}/deliveries/{delivery.pk}/resend/").status_code == 404
    assert org.stranger.organization.webhook_endpoints.count() == 0
    assert WebhookEndpoint.objects.count() == 1 and WebhookDelivery.objects.count() == 1
