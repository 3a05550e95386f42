"""Issue 18 #2: a customer's change carries the confirmation of its preview — missing, forged, expired,
given for another change or another organization, or outdated by a state change, it is refused and
nothing changes."""

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import UserFactory
from billing import services
from billing.models import AccountStatus, BillingAccount, Payment
from billing.tests.account_factories import BillingAccountFactory
from billing.tests.confirming import preview
from tenants.models import Role

pytestmark = pytest.mark.django_db

SUBSCRIBE = "/api/v1/billing/subscribe"
CANCEL = "/api/v1/billing/cancel"
UPGRADE = {"plan": "yearly", "provider": "manual"}


@pytest.fixture
def account(auth_client, monthly, yearly, weekly):
    return BillingAccountFactory(organization=auth_client.user.organization, plan=monthly)


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def token(client, path=SUBSCRIBE, body=UPGRADE) -> str:
    response = preview(client, path, body)
    assert response.status_code == 200, response.content
    return response.json()["confirmation"]


def assert_unchanged(account):
    before = {"plan": account.plan_id, "status": account.status, "end": account.current_period_end}
    account.refresh_from_db()
    assert {"plan": account.plan_id, "status": account.status, "end": account.current_period_end} == before
    assert not Payment.objects.filter(account=account).exists()


@pytest.mark.parametrize(("path", "body"), [(SUBSCRIBE, UPGRADE), (CANCEL, {"immediate": True})])
def test_a_change_without_its_confirmation_is_refused(auth_client, account, path, body):
    response = auth_client.post(path, body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "confirmation_required"
    assert "confirmation" in response.json()["fields"]
    assert_unchanged(account)


def test_a_forged_confirmation_is_refused(auth_client, account):
    signed = token(auth_client)
    forged = signed[:-3] + ("aaa" if signed[-3:] != "aaa" else "bbb")

    response = auth_client.post(SUBSCRIBE, {**UPGRADE, "confirmation": forged}, format="json")

    assert (response.status_code, response.json()["code"]) == (400, "confirmation_invalid")
    assert_unchanged(account)


def test_another_organizations_confirmation_is_refused(auth_client, account, monthly):
    stranger = UserFactory(role=Role.OWNER)
    BillingAccountFactory(organization=stranger.organization, plan=monthly)
    theirs = token(client_for(stranger))

    response = auth_client.post(SUBSCRIBE, {**UPGRADE, "confirmation": theirs}, format="json")

    assert (response.status_code, response.json()["code"]) == (400, "confirmation_invalid")
    assert_unchanged(account)


def test_a_confirmation_for_another_plan_is_refused(auth_client, account):
    for_weekly = token(auth_client, body={"plan": "weekly", "provider": "manual"})

    response = auth_client.post(SUBSCRIBE, {**UPGRADE, "confirmation": for_weekly}, format="json")

    assert (response.status_code, response.json()["code"]) == (400, "confirmation_invalid")
    assert_unchanged(account)


def test_a_confirmation_outdated_by_a_state_change_is_stale(auth_client, account):
    signed = token(auth_client)
    assert auth_client.post(CANCEL, {"immediate": False}, format="json").status_code == 200

    response = auth_client.post(SUBSCRIBE, {**UPGRADE, "confirmation": signed}, format="json")

    assert (response.status_code, response.json()["code"]) == (409, "confirmation_stale")
    account.refresh_from_db()
    assert (account.plan.code, account.cancel_at_period_end) == ("monthly", True)


def test_a_confirmation_outdated_by_a_price_change_is_stale(auth_client, account, yearly):
    signed = token(auth_client)
    yearly.prices.filter(currency="USD").update(amount="249.99")

    response = auth_client.post(SUBSCRIBE, {**UPGRADE, "confirmation": signed}, format="json")

    assert (response.status_code, response.json()["code"]) == (409, "confirmation_stale")
    assert_unchanged(account)


def test_an_expired_confirmation_is_stale(auth_client, account, settings):
    signed = token(auth_client, CANCEL, {"immediate": True})
    settings.BILLING_CONFIRMATION_MAX_AGE_SECONDS = -1

    response = auth_client.post(CANCEL, {"immediate": True, "confirmation": signed}, format="json")

    assert (response.status_code, response.json()["code"]) == (409, "confirmation_stale")
    assert_unchanged(account)


def test_a_confirmed_immediate_cancel_ends_the_period(auth_client, account):
    signed = token(auth_client, CANCEL, {"immediate": True})

    response = auth_client.post(CANCEL, {"immediate": True, "confirmation": signed}, format="json")

    assert response.status_code == 200, response.content
    assert BillingAccount.objects.get(pk=account.pk).status == AccountStatus.CANCELED


def test_a_confirmation_is_used_for_what_it_confirms_only(auth_client, account):
    cancel_token = token(auth_client, CANCEL, {"immediate": True})

    response = auth_client.post(SUBSCRIBE, {**UPGRADE, "confirmation": cancel_token}, format="json")

    assert (response.status_code, response.json()["code"]) == (400, "confirmation_invalid")


@pytest.mark.parametrize("path", ["preview", "undo-downgrade"])
def test_a_member_cannot_preview_or_undo(account, path):
    member = UserFactory(organization=account.organization, role=Role.MEMBER)

    response = client_for(member).post(f"/api/v1/billing/{path}", UPGRADE, format="json")

    assert (response.status_code, response.json()["code"]) == (403, "forbidden_role")


def test_the_service_refuses_a_member_before_previewing(account):
    member = UserFactory(organization=account.organization, role=Role.MEMBER)

    with pytest.raises(services.BillingError) as refused:
        services.preview_change(organization=account.organization, actor=member, plan="yearly", provider="manual")

    assert refused.value.code == "forbidden_role"


def test_preview_validates_its_body(auth_client, account):
    response = auth_client.post("/api/v1/billing/preview", {"action": "subscribe"}, format="json")

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"plan", "provider"}


def test_the_schema_documents_the_preview_and_the_confirmation(api_client):
    schema = api_client.get("/api/v1/schema/?format=json").json()

    operation = schema["paths"]["/api/v1/billing/preview"]["post"]
    assert operation["operationId"] == "billing_preview"
    assert {"200", "400", "403", "409"} <= set(operation["responses"])
    output = schema["components"]["schemas"]["PreviewOutput"]
    assert {"amount_due", "credit", "lost", "confirmation", "confirmation_expires_at"} <= set(output["properties"])
    assert "confirmation" in schema["components"]["schemas"]["SubscribeInputRequest"]["properties"]
    assert "confirmation" in schema["components"]["schemas"]["CancelInputRequest"]["properties"]
    assert "/api/v1/billing/undo-downgrade" in schema["paths"]
