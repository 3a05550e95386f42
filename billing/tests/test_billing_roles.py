"""Issue 11 #13: only an organization's owner or admin changes what it pays for, whichever channel
calls billing (the API, the dashboard, the bot): the billing services check the role themselves."""

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import UserFactory
from billing import services
from billing.models import AccountStatus, BillingAccount
from billing.tests.account_factories import BillingAccountFactory
from billing.tests.confirming import confirmation_for
from tenants.models import Role

pytestmark = pytest.mark.django_db

ACTIONS = {
    "subscribe": lambda org, actor: services.subscribe(organization=org, plan="yearly", provider="manual", actor=actor),
    "cancel": lambda org, actor: services.cancel(organization=org, immediate=True, actor=actor),
    "resume": lambda org, actor: services.resume(organization=org, actor=actor),
    "start_payment": lambda org, actor: services.start_payment(organization=org, provider="yookassa", actor=actor),
}


@pytest.fixture
def account(monthly, yearly):
    owner = UserFactory()
    return BillingAccountFactory(organization=owner.organization, plan=monthly, cancel_at_period_end=True)


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_the_billing_service_refuses_a_member(account, action):
    member = UserFactory(organization=account.organization, role=Role.MEMBER)
    before = BillingAccount.objects.values().get(pk=account.pk)

    with pytest.raises(services.BillingError) as refused:
        ACTIONS[action](account.organization, member)

    assert (refused.value.code, refused.value.http_status) == ("forbidden_role", 403)
    assert "owner or an admin" in refused.value.detail
    assert BillingAccount.objects.values().get(pk=account.pk) == before


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_the_billing_service_refuses_the_owner_of_another_organization(account, action):
    stranger = UserFactory(role=Role.OWNER)

    with pytest.raises(services.BillingError) as refused:
        ACTIONS[action](account.organization, stranger)

    assert refused.value.code == "forbidden_role"


def test_an_admin_of_the_organization_may_cancel(account):
    admin = UserFactory(organization=account.organization, role=Role.ADMIN)

    token = confirmation_for(organization=account.organization, actor=admin, cancel=True, immediate=True)
    services.cancel(organization=account.organization, immediate=True, actor=admin, confirmation=token)

    account.refresh_from_db()
    assert account.status == AccountStatus.CANCELED


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("subscribe", {"plan": "yearly", "provider": "manual"}),
        ("cancel", {"immediate": True}),
        ("resume", {}),
        ("payment", {"provider": "manual"}),
    ],
)
def test_a_member_posting_to_the_api_is_refused_with_forbidden_role(account, path, data):
    member = UserFactory(organization=account.organization, role=Role.MEMBER)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(member).access_token}")

    response = client.post(f"/api/v1/billing/{path}", data, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden_role"
    account.refresh_from_db()
    assert (account.plan.code, account.status) == ("monthly", AccountStatus.ACTIVE)


@pytest.mark.parametrize(
    ("path", "data"),
    [("subscribe", {"plan": "yearly", "provider": "manual"}), ("cancel", {"immediate": "on"}), ("resume", {})],
)
def test_a_member_posting_the_dashboard_forms_is_refused(client, account, path, data):
    member = UserFactory(organization=account.organization, role=Role.MEMBER)
    client.force_login(member)

    response = client.post(f"/billing/{path}/", data)

    assert response.status_code == 403
    account.refresh_from_db()
    assert (account.plan.code, account.status) == ("monthly", AccountStatus.ACTIVE)
