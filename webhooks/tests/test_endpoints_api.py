"""The webhook endpoints API as owners, admins, members, API keys and other organizations meet it."""

import pytest

from tenants.models import AuditEvent
from tenants.services import create_api_key
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import emit
from webhooks.tests.conftest import client_for

pytestmark = pytest.mark.django_db

PATH = "/api/v1/webhook-endpoints"


def test_owner_registers_an_endpoint_and_gets_its_secret_once(org, receiver):
    response = org.api.post(
        PATH,
        {"url": receiver.url, "events": ["lead.created", "payment.succeeded"], "description": "CRM"},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    assert body["events"] == ["payment.succeeded", "lead.created"]
    assert body["description"] == "CRM" and body["is_active"] is True
    assert body["secret"] not in WebhookEndpoint.objects.get().secret_encrypted
    assert AuditEvent.objects.filter(action="webhook_endpoint.created", organization=org.organization).exists()


def test_the_secret_is_in_no_read_answer(org, endpoint_for, committed):
    endpoint_id, secret = endpoint_for()
    with committed():
        emit(organization=org.organization, event_type="payment.succeeded", payload={"n": 1})
    delivery = WebhookDelivery.objects.get()

    answers = [
        org.api.get(PATH),
        org.api.get(f"{PATH}/{endpoint_id}"),
        org.api.patch(f"{PATH}/{endpoint_id}", {"description": "changed"}, format="json"),
        org.api.get(f"{PATH}/{endpoint_id}/deliveries"),
        org.api.post(f"{PATH}/{endpoint_id}/deliveries/{delivery.pk}/resend"),
    ]

    for answer in answers:
        assert answer.status_code in (200, 202), answer.content
        assert secret not in answer.content.decode()
        assert "secret" not in answer.content.decode()


def test_rotating_gives_a_new_secret_once(org, endpoint_for):
    endpoint_id, secret = endpoint_for()

    response = org.api.post(f"{PATH}/{endpoint_id}/rotate-secret")

    assert response.status_code == 200
    new_secret = response.json()["secret"]
    assert new_secret.startswith("whsec_") and new_secret != secret
    assert new_secret not in org.api.get(f"{PATH}/{endpoint_id}").content.decode()
    assert AuditEvent.objects.filter(action="webhook_endpoint.secret_rotated").count() == 1


def test_admin_manages_endpoints_too(org, receiver):
    admin = client_for(org.admin)

    created = admin.post(PATH, {"url": receiver.url, "events": ["member.joined"]}, format="json")
    endpoint_id = created.json()["id"]

    assert created.status_code == 201
    assert admin.patch(f"{PATH}/{endpoint_id}", {"is_active": False}, format="json").json()["is_active"] is False
    assert admin.delete(f"{PATH}/{endpoint_id}").status_code == 204
    assert not WebhookEndpoint.objects.exists()
    assert AuditEvent.objects.filter(action="webhook_endpoint.deleted").count() == 1


def test_a_member_is_refused(org, endpoint_for, receiver):
    endpoint_id, _secret = endpoint_for()
    member = client_for(org.member)

    answers = [
        member.get(PATH),
        member.post(PATH, {"url": receiver.url, "events": ["lead.created"]}, format="json"),
        member.get(f"{PATH}/{endpoint_id}"),
        member.patch(f"{PATH}/{endpoint_id}", {"is_active": False}, format="json"),
        member.delete(f"{PATH}/{endpoint_id}"),
        member.get(f"{PATH}/{endpoint_id}/deliveries"),
    ]

    for answer in answers:
        assert answer.status_code == 403
        assert answer.json()["code"] == "forbidden_role"
    assert WebhookEndpoint.objects.get().is_active


def test_another_organizations_endpoint_is_not_found(org, endpoint_for, committed):
    endpoint_id, _secret = endpoint_for()
    with committed():
        emit(organization=org.organization, event_type="payment.succeeded", payload={})
    delivery = WebhookDelivery.objects.get()
    stranger = client_for(org.stranger)

    answers = [
        stranger.get(f"{PATH}/{endpoint_id}"),
        stranger.patch(f"{PATH}/{endpoint_id}", {"is_active": False}, format="json"),
        stranger.delete(f"{PATH}/{endpoint_id}"),
        stranger.post(f"{PATH}/{endpoint_id}/rotate-secret"),
        stranger.get(f"{PATH}/{endpoint_id}/deliveries"),
        stranger.post(f"{PATH}/{endpoint_id}/deliveries/{delivery.pk}/resend"),
    ]

    for answer in answers:
        assert answer.status_code == 404
        assert answer.json()["code"] == "not_found"
    assert stranger.get(PATH).json()["results"] == []
    assert WebhookEndpoint.objects.get().is_active


def test_a_delivery_of_another_endpoint_is_not_found(org, endpoint_for, committed):
    endpoint_for()
    second_id, _ = endpoint_for(events=["lead.created"])
    with committed():
        emit(organization=org.organization, event_type="payment.succeeded", payload={})
    delivery = WebhookDelivery.objects.get()

    response = org.api.post(f"{PATH}/{second_id}/deliveries/{delivery.pk}/resend")

    assert response.status_code == 404
    assert WebhookDelivery.objects.count() == 1


def test_an_api_key_reads_but_changes_nothing(org, endpoint_for, receiver):
    endpoint_id, _ = endpoint_for()
    _key, secret = create_api_key(organization=org.organization, name="script", actor=org.owner)
    api_key = client_for(org.owner)
    api_key.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")

    assert api_key.get(PATH).status_code == 200
    assert api_key.get(f"{PATH}/{endpoint_id}/deliveries").status_code == 200
    for answer in (
        api_key.post(PATH, {"url": receiver.url, "events": ["lead.created"]}, format="json"),
        api_key.patch(f"{PATH}/{endpoint_id}", {"is_active": False}, format="json"),
        api_key.post(f"{PATH}/{endpoint_id}/rotate-secret"),
        api_key.delete(f"{PATH}/{endpoint_id}"),
    ):
        assert answer.status_code == 403
        assert answer.json()["code"] == "insufficient_scope"


def test_a_key_without_read_scope_reads_nothing(org, endpoint_for):
    endpoint_for()
    _key, secret = create_api_key(organization=org.organization, name="invoker", actor=org.owner, scopes=["invoke"])
    api_key = client_for(org.owner)
    api_key.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")

    response = api_key.get(PATH)

    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "https://hooks.example.com/x", "events": []}, "events"),
        ({"url": "https://hooks.example.com/x", "events": ["invoice.paid"]}, "events"),
        ({"url": "ftp://hooks.example.com/x", "events": ["lead.created"]}, "url"),
        ({"url": "https://user:pw@hooks.example.com/x", "events": ["lead.created"]}, "url"),
        ({"url": "not a url", "events": ["lead.created"]}, "url"),
        ({"events": ["lead.created"]}, "url"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(org, body, field):
    response = org.api.post(PATH, body, format="json")

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not WebhookEndpoint.objects.exists()


def test_plain_http_is_refused_where_https_is_required(org, settings):
    settings.WEBHOOKS_ALLOW_HTTP = False

    response = org.api.post(PATH, {"url": "http://hooks.example.com/x", "events": ["lead.created"]}, format="json")

    assert response.status_code == 400
    assert response.json()["fields"]["url"] == ["The URL must start with https://."]


def test_changes_are_audited_with_before_and_after(org, endpoint_for):
    endpoint_id, _ = endpoint_for()

    response = org.api.patch(
        f"{PATH}/{endpoint_id}", {"events": ["member.joined"], "description": "team"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["events"] == ["member.joined"]
    change = AuditEvent.objects.get(action="webhook_endpoint.changed")
    assert change.before == {"events": ["subscription.changed", "payment.succeeded"], "description": ""}
    assert change.after == {"events": ["member.joined"], "description": "team"}


def test_deliveries_are_paginated_newest_first_in_a_fixed_number_of_queries(
    org, endpoint_for, committed, django_assert_max_num_queries
):
    endpoint_id, _ = endpoint_for()
    for number in range(7):
        with committed():
            emit(organization=org.organization, event_type="payment.succeeded", payload={"n": number})

    with django_assert_max_num_queries(6):
        page = org.api.get(f"{PATH}/{endpoint_id}/deliveries?limit=5").json()

    assert page["count"] == 7
    assert [delivery["body"]["data"]["n"] for delivery in page["results"]] == [6, 5, 4, 3, 2]
    assert all(len(delivery["attempt_log"]) == 1 for delivery in page["results"])
