"""The billing API (SPEC §7) as a customer meets it."""

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import UserFactory
from billing import services
from billing.models import AccountStatus, BillingAccount
from billing.tests.account_factories import BillingAccountFactory
from billing.tests.confirming import confirmed
from tenants.models import Role
from tenants.tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def client_for(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def test_account_of_an_organization_without_one_reads_status_none(auth_client):
    response = auth_client.get("/api/v1/billing/account")
    assert response.status_code == 200
    assert response.json()["status"] == "none"
    assert response.json()["plan"] is None
    assert not BillingAccount.objects.exists()


def test_account_shows_plan_status_and_period(auth_client, monthly):
    account = BillingAccountFactory(organization=auth_client.user.organization, plan=monthly)
    body = auth_client.get("/api/v1/billing/account").json()
    assert body["status"] == "active"
    assert body["plan"]["code"] == "monthly"
    assert body["current_period_end"].startswith(account.current_period_end.date().isoformat())
    assert body["cancel_at_period_end"] is False


def test_owner_subscribes_with_manual_provider(auth_client, monthly):
    response = confirmed(auth_client, "/api/v1/billing/subscribe", {"plan": "monthly", "provider": "manual"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "active" and body["checkout_url"] is None
    assert BillingAccount.objects.get(organization=auth_client.user.organization).plan == monthly


def test_member_may_not_subscribe_or_cancel(monthly):
    member = UserFactory(role=Role.MEMBER)
    client = client_for(member)
    for path, data in (("subscribe", {"plan": "monthly", "provider": "manual"}), ("cancel", {})):
        response = client.post(f"/api/v1/billing/{path}", data, format="json")
        assert response.status_code == 403
        assert response.json()["code"] == "forbidden_role"


@pytest.mark.parametrize(
    ("data", "code", "field"),
    [
        ({"plan": "platinum", "provider": "manual"}, "unknown_plan", "plan"),
        ({"plan": "monthly", "provider": "paddle"}, "provider_disabled", "provider"),
        ({"plan": "monthly", "provider": "manual", "currency": "EUR"}, "currency_not_offered", "currency"),
        ({"plan": "monthly", "provider": "bitcoin"}, "invalid", "provider"),
    ],
)
def test_subscribe_validation_errors_name_the_field(auth_client, monthly, data, code, field):
    response = confirmed(auth_client, "/api/v1/billing/subscribe", data)
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert field in response.json()["fields"]


def test_manual_paid_plan_is_refused_when_manual_payments_are_off(auth_client, monthly, settings):
    settings.BILLING_MANUAL_ENABLED = False
    response = confirmed(auth_client, "/api/v1/billing/subscribe", {"plan": "monthly", "provider": "manual"})
    assert response.status_code == 400
    assert response.json()["code"] == "provider_disabled"


def test_cancel_then_resume_through_the_api(auth_client, monthly):
    BillingAccountFactory(organization=auth_client.user.organization, plan=monthly)
    canceled = confirmed(auth_client, "/api/v1/billing/cancel", {})
    assert canceled.status_code == 200
    assert canceled.json()["cancel_at_period_end"] is True
    resumed = auth_client.post("/api/v1/billing/resume", format="json")
    assert resumed.status_code == 200
    assert resumed.json()["cancel_at_period_end"] is False


def test_cancel_immediately_through_the_api(auth_client, monthly):
    BillingAccountFactory(organization=auth_client.user.organization, plan=monthly)
    response = confirmed(auth_client, "/api/v1/billing/cancel", {"immediate": True})
    assert response.json()["status"] == AccountStatus.CANCELED


def test_cancel_without_subscription_answers_400(auth_client):
    response = confirmed(auth_client, "/api/v1/billing/cancel", {})
    assert response.status_code == 400
    assert response.json()["code"] == "not_subscribed"


def test_history_lists_payments_and_changes_newest_first_paginated(auth_client, monthly, yearly):
    organization = auth_client.user.organization
    services.start_trial(organization=organization, actor=auth_client.user)
    services.subscribe(organization=organization, plan=monthly, provider="manual", actor=None)
    services.subscribe(organization=organization, plan=yearly, provider="manual", actor=None)
    body = auth_client.get("/api/v1/billing/history?limit=3").json()
    assert body["count"] == 5
    assert [item["kind"] for item in body["results"]].count("payment") >= 1
    assert body["results"][0]["created_at"] >= body["results"][-1]["created_at"]
    assert body["next"]
    rest = auth_client.get(body["next"]).json()["results"]
    seen = {(i["kind"], i["id"]) for i in body["results"]} | {(i["kind"], i["id"]) for i in rest}
    assert len(seen) == 5


def test_history_never_shows_another_organizations_rows(auth_client, monthly):
    other = OrganizationFactory()
    services.start_trial(organization=other, actor=None)
    services.subscribe(organization=other, plan=monthly, provider="manual", actor=None)
    assert auth_client.get("/api/v1/billing/history").json()["count"] == 0


def test_history_query_count_is_fixed(auth_client, monthly, django_assert_max_num_queries):
    organization = auth_client.user.organization
    for _ in range(5):
        services.subscribe(organization=organization, plan=monthly, provider="manual", actor=None)
        services.cancel(organization=organization, immediate=True, actor=None)
    with django_assert_max_num_queries(6):
        response = auth_client.get("/api/v1/billing/history")
    assert response.json()["count"] == 15


def test_history_shows_support_for_an_operators_change(auth_client, admin_client, admin_user, yearly):
    """Issue 11 #17: customers never see who on the staff changed their subscription."""
    account = BillingAccountFactory(organization=auth_client.user.organization, plan=None, status="none")
    data = {"action": "grant_plan", "_selected_action": [account.pk]}
    admin_client.post("/admin/billing/billingaccount/", {**data, "apply": "1", "plan": yearly.pk, "periods": 1})

    response = auth_client.get("/api/v1/billing/history")

    [change] = [item for item in response.json()["results"] if item["kind"] == "change"]
    assert (change["action"], change["actor"]) == ("subscription.granted", "support")
    assert admin_user.email not in response.content.decode()
