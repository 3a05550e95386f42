"""Issue 11 #14: free is explicit (Plan.is_free, or zero prices); a plan without prices is not free."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from billing.models import AccountStatus, BillingAccount, Payment
from billing.tests.account_factories import BillingAccountFactory, make_plan
from billing.tests.confirming import confirmed

pytestmark = pytest.mark.django_db


def subscribe(client, plan_code):
    return confirmed(client, "/api/v1/billing/subscribe", {"plan": plan_code, "provider": "manual"})


@pytest.mark.parametrize("manual_enabled", [True, False])
def test_subscribing_to_a_plan_without_prices_is_refused(auth_client, settings, manual_enabled):
    settings.BILLING_MANUAL_ENABLED = manual_enabled
    make_plan("unpriced", prices={})

    response = subscribe(auth_client, "unpriced")

    assert response.status_code == 400
    assert response.json()["code"] == ("plan_not_priced" if manual_enabled else "provider_disabled")
    assert not BillingAccount.objects.filter(status=AccountStatus.ACTIVE).exists()
    assert not Payment.objects.exists()


@pytest.mark.parametrize("prices", [{}, {"USD": "0.00"}])
def test_a_free_plan_is_taken_without_paying_even_when_manual_payments_are_off(auth_client, settings, prices):
    settings.BILLING_MANUAL_ENABLED = False
    plan = make_plan("free", prices=prices)
    plan.is_free = not prices
    plan.save()

    response = subscribe(auth_client, "free")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "active"
    assert Payment.objects.get().amount == Decimal("0")


def ended_account(plan):
    now = timezone.now()
    return BillingAccountFactory(
        plan=plan, current_period_start=now - timedelta(days=31), current_period_end=now - timedelta(minutes=1)
    )


def test_billing_tick_does_not_renew_a_plan_without_prices_for_free(settings):
    settings.BILLING_MANUAL_ENABLED = True
    account = ended_account(make_plan("unpriced", prices={}))

    call_command("billing_tick")

    account.refresh_from_db()
    assert account.status == AccountStatus.EXPIRED
    assert not Payment.objects.exists()


def test_billing_tick_renews_a_plan_marked_free(settings):
    settings.BILLING_MANUAL_ENABLED = False
    plan = make_plan("free", prices={})
    plan.is_free = True
    plan.save()
    account = ended_account(plan)
    old_end = account.current_period_end

    call_command("billing_tick")

    account.refresh_from_db()
    assert (account.status, account.current_period_start) == (AccountStatus.ACTIVE, old_end)


def test_an_operator_can_still_grant_a_plan_without_prices(admin_client):
    plan = make_plan("unpriced", prices={})
    account = BillingAccountFactory(plan=None, status=AccountStatus.NONE)
    data = {"action": "grant_plan", "_selected_action": [account.pk]}

    admin_client.post("/admin/billing/billingaccount/", {**data, "apply": "1", "plan": plan.pk, "periods": 1})

    account.refresh_from_db()
    assert (account.plan, account.status) == (plan, AccountStatus.ACTIVE)


def test_the_admin_plan_form_sets_the_free_flag(admin_client):
    plan = make_plan("unpriced", prices={})
    page = admin_client.get(f"/admin/billing/plan/{plan.pk}/change/")

    assert b'name="is_free"' in page.content
