"""Each event is sent by the flow that produces it: a manual-provider subscription and a YooKassa payment
(payment.succeeded, subscription.changed), a cancellation, an invitation accepted by a new or an existing
person and an operator moving a person into the organization (member.joined)."""

import json

import pytest
from django.core import mail

from accounts.services import mark_email_verified
from accounts.tests.factories import UserFactory
from accounts.tests.members_helpers import client_for, token_in
from billing.models import Payment
from billing.tests.account_factories import BillingAccountFactory, make_plan
from billing.tests.confirming import confirmed
from billing.tests.factories import PlanFactory
from testing.admin_forms import admin_form_data
from webhooks.tests.conftest import verify

pytestmark = pytest.mark.django_db


def _events(receiver) -> list[dict]:
    return [json.loads(request.body) for request in receiver.received]


@pytest.fixture
def monthly(db):
    return make_plan("monthly", prices={"USD": "19.99", "RUB": "990.00"}, order=3)


def test_a_manual_payment_sends_payment_succeeded_and_subscription_changed(
    org, endpoint_for, receiver, committed, monthly
):
    _endpoint_id, secret = endpoint_for(events=["payment.succeeded", "subscription.changed"])

    with committed():
        response = confirmed(org.api, "/api/v1/billing/subscribe", {"plan": "monthly", "provider": "manual"})

    assert response.status_code == 200, response.content
    payment = Payment.objects.get(account__organization=org.organization)
    paid, changed = _events(receiver)
    assert paid["type"] == "payment.succeeded"
    assert paid["data"]["payment"] == {
        "id": payment.pk,
        "provider": "manual",
        "amount": str(payment.amount),
        "currency": payment.currency,
        "plan": "monthly",
        "period_start": payment.period_start.isoformat(),
        "period_end": payment.period_end.isoformat(),
    }
    assert changed["type"] == "subscription.changed"
    assert changed["data"]["change"] == "activated"
    assert changed["data"]["subscription"]["status"] == "active"
    assert changed["data"]["subscription"]["plan"] == "monthly"
    for request in receiver.received:
        verify(request, secret)


def test_a_payment_confirmed_by_the_providers_notification_sends_payment_succeeded(
    org, endpoint_for, receiver, committed, monthly, fake_yookassa, client
):
    endpoint_for(events=["payment.succeeded"])
    started = org.api.post(
        "/api/v1/billing/payment",
        {"provider": "yookassa", "plan": "monthly", "return_url": "https://app.example.com/back"},
        format="json",
    ).json()
    assert receiver.received == []
    fake_yookassa.set_status(started["provider_payment_id"], "succeeded")
    notification = {
        "type": "notification",
        "event": "payment.succeeded",
        "object": {"id": started["provider_payment_id"], "status": "succeeded"},
    }

    with committed():
        response = client.post(
            "/api/v1/billing/webhooks/yookassa",
            data=json.dumps(notification),
            content_type="application/json",
            REMOTE_ADDR="185.71.76.5",
        )

    assert response.status_code == 200
    [paid] = _events(receiver)
    assert paid["data"]["payment"]["id"] == started["payment_id"]
    assert (paid["data"]["payment"]["provider"], paid["data"]["payment"]["amount"]) == ("yookassa", "990.00")
    assert paid["data"]["payment"]["currency"] == "RUB"


def test_a_cancellation_sends_subscription_changed_only(org, endpoint_for, receiver, committed, monthly):
    with committed():
        confirmed(org.api, "/api/v1/billing/subscribe", {"plan": "monthly", "provider": "manual"})
    endpoint_for(events=["subscription.changed"])

    with committed():
        response = org.api.post("/api/v1/billing/cancel", {}, format="json")

    assert response.status_code == 200, response.content
    [changed] = _events(receiver)
    assert changed["data"]["change"] == "cancel_scheduled"
    assert changed["data"]["previous"]["cancel_at_period_end"] is False
    assert changed["data"]["subscription"]["cancel_at_period_end"] is True


def _invite(org, committed, email: str, role: str = "member") -> str:
    BillingAccountFactory(organization=org.organization, plan=PlanFactory(code="team", max_members=10))
    with committed():
        response = org.api.post("/api/v1/organization/invitations", {"email": email, "role": role}, format="json")
    assert response.status_code == 201, response.content
    return token_in(mail.outbox[-1])


def test_a_new_person_signing_up_through_an_invitation_sends_member_joined(
    org, endpoint_for, receiver, committed, api_client
):
    _endpoint_id, secret = endpoint_for(events=["member.joined"])
    token = _invite(org, committed, "new@example.com", role="admin")

    with committed():
        response = api_client.post(
            "/api/v1/auth/register",
            {"email": "new@example.com", "password": "a-long-passphrase-1", "invitation": token},
            format="json",
        )

    assert response.status_code == 201, response.content
    [joined] = _events(receiver)
    verify(receiver.received[0], secret)
    assert joined["type"] == "member.joined" and joined["organization"] == org.organization.pk
    assert joined["data"]["member"]["email"] == "new@example.com"
    assert joined["data"]["member"]["role"] == "admin"


def test_an_existing_person_accepting_an_invitation_sends_member_joined(org, endpoint_for, receiver, committed):
    endpoint_for(events=["member.joined"])
    solo = UserFactory(email="solo@example.com", email_verified=False)
    mark_email_verified(user=solo, email=solo.email)
    token = _invite(org, committed, "solo@example.com")

    with committed():
        response = client_for(solo).post("/api/v1/invitations/accept", {"token": token}, format="json")

    assert response.status_code == 200, response.content
    [joined] = _events(receiver)
    assert joined["organization"] == org.organization.pk
    assert joined["data"]["member"] == {"id": solo.pk, "email": solo.email, "name": solo.name, "role": "member"}


def test_a_person_moved_into_the_organization_sends_member_joined(org, endpoint_for, receiver, committed, client):
    endpoint_for(events=["member.joined"])
    operator = UserFactory(is_staff=True, is_superuser=True, organization=None)
    newcomer = UserFactory(name="Nina")
    client.force_login(operator)
    form = admin_form_data(client.get(f"/admin/accounts/user/{newcomer.pk}/change/").content.decode(), "user_form")
    form.update({"organization": str(org.organization.pk), "role": "member"})

    with committed():
        assert client.post(f"/admin/accounts/user/{newcomer.pk}/change/", form).status_code == 302

    [joined] = _events(receiver)
    assert joined["type"] == "member.joined" and joined["organization"] == org.organization.pk
    assert joined["data"]["member"] == {"id": newcomer.pk, "email": newcomer.email, "name": "Nina", "role": "member"}


def test_a_role_change_is_not_a_join(org, endpoint_for, receiver, committed, client):
    endpoint_for(events=["member.joined"])
    operator = UserFactory(is_staff=True, is_superuser=True, organization=None)
    client.force_login(operator)
    form = admin_form_data(client.get(f"/admin/accounts/user/{org.member.pk}/change/").content.decode(), "user_form")
    form["role"] = "admin"

    with committed():
        assert client.post(f"/admin/accounts/user/{org.member.pk}/change/", form).status_code == 302

    assert receiver.received == []
