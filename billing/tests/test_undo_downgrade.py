"""Issue 18 #2: a scheduled downgrade can be undone (audited, set at Paddle too), and cancelling then
resuming keeps it."""

import pytest
from django.core.management import call_command

from billing import services
from billing.models import AccountStatus, BillingAccount
from billing.tests.account_factories import BillingAccountFactory
from billing.tests.confirming import confirmed
from billing.tests.test_lifecycle import end_period
from tenants.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def downgrading(auth_client, monthly, yearly):
    """A yearly account whose owner scheduled a downgrade to monthly."""
    account = BillingAccountFactory(organization=auth_client.user.organization, plan=yearly)
    response = confirmed(auth_client, "/api/v1/billing/subscribe", {"plan": "monthly", "provider": "manual"})
    assert response.json()["scheduled_plan"]["code"] == "monthly"
    return account


def test_the_owner_undoes_a_scheduled_downgrade(auth_client, downgrading, yearly):
    response = auth_client.post("/api/v1/billing/undo-downgrade", format="json")

    assert response.status_code == 200, response.content
    assert (response.json()["plan"]["code"], response.json()["scheduled_plan"]) == ("yearly", None)
    [row] = AuditEvent.objects.filter(organization=downgrading.organization, action="subscription.downgrade_canceled")
    assert (row.before["scheduled_plan"], row.after["scheduled_plan"], row.actor) == ("monthly", None, auth_client.user)
    end_period(downgrading)
    call_command("billing_tick")
    downgrading.refresh_from_db()
    assert (downgrading.plan, downgrading.status) == (yearly, AccountStatus.ACTIVE)


def test_undoing_without_a_scheduled_downgrade_is_refused(auth_client, monthly):
    BillingAccountFactory(organization=auth_client.user.organization, plan=monthly)

    response = auth_client.post("/api/v1/billing/undo-downgrade", format="json")

    assert (response.status_code, response.json()["code"]) == (400, "no_downgrade_scheduled")


def test_cancel_then_resume_keeps_the_scheduled_downgrade(auth_client, downgrading, monthly):
    assert auth_client.post("/api/v1/billing/cancel", {}, format="json").json()["scheduled_plan"]["code"] == "monthly"

    resumed = auth_client.post("/api/v1/billing/resume", format="json")

    assert resumed.json()["scheduled_plan"]["code"] == "monthly"
    assert resumed.json()["cancel_at_period_end"] is False
    end_period(downgrading)
    call_command("billing_tick")
    downgrading.refresh_from_db()
    assert (downgrading.plan, downgrading.status, downgrading.scheduled_plan) == (monthly, AccountStatus.ACTIVE, None)


def test_a_canceled_period_end_ends_the_scheduled_downgrade_too(downgrading):
    services.cancel(organization=downgrading.organization, actor=None)
    end_period(downgrading)

    call_command("billing_tick")

    downgrading.refresh_from_db()
    assert (downgrading.status, downgrading.scheduled_plan) == (AccountStatus.CANCELED, None)


def test_undoing_at_paddle_sets_the_current_plan_back_there(auth_client, fake_paddle, monthly, yearly):
    fake_paddle.prices.update({"pri_monthly_USD": ("1999", "USD"), "pri_yearly_USD": ("19999", "USD")})
    fake_paddle.add_subscription("sub_9", price_id="pri_yearly_USD")
    BillingAccountFactory(
        organization=auth_client.user.organization, plan=yearly, provider="paddle", provider_subscription_id="sub_9"
    )
    confirmed(auth_client, "/api/v1/billing/subscribe", {"plan": "monthly", "provider": "paddle"})
    assert [item["price"]["id"] for item in fake_paddle.subscriptions["sub_9"]["items"]] == ["pri_monthly_USD"]

    response = auth_client.post("/api/v1/billing/undo-downgrade", format="json")

    assert response.status_code == 200, response.content
    assert [item["price"]["id"] for item in fake_paddle.subscriptions["sub_9"]["items"]] == ["pri_yearly_USD"]
    account = BillingAccount.objects.get(organization=auth_client.user.organization)
    assert (account.plan, account.scheduled_plan) == (yearly, None)


def test_a_refused_undo_at_paddle_keeps_the_downgrade(auth_client, fake_paddle, monthly, yearly):
    fake_paddle.prices.update({"pri_monthly_USD": ("1999", "USD"), "pri_yearly_USD": ("19999", "USD")})
    fake_paddle.add_subscription("sub_9", price_id="pri_yearly_USD")
    BillingAccountFactory(
        organization=auth_client.user.organization, plan=yearly, provider="paddle", provider_subscription_id="sub_9"
    )
    confirmed(auth_client, "/api/v1/billing/subscribe", {"plan": "monthly", "provider": "paddle"})
    fake_paddle.fail_next = True

    response = auth_client.post("/api/v1/billing/undo-downgrade", format="json")

    assert (response.status_code, response.json()["code"]) == (502, "provider_error")
    assert BillingAccount.objects.get(organization=auth_client.user.organization).scheduled_plan == monthly
