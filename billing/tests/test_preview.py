"""Issue 18 #2: the preview of a billing change — trial days kept, proration credit, what is lost — and
that the change then does what the preview said (manual directly, YooKassa charging the prorated amount,
Paddle saying it cannot)."""

import math
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.test import Client
from django.utils import timezone

from agents.tests.factories import AgentFactory
from billing.models import AccountStatus, BillingAccount, Payment, PaymentStatus, PlanAgent
from billing.periods import add_interval
from billing.tests.account_factories import BillingAccountFactory, PaymentFactory, make_plan
from billing.tests.confirming import confirmed, preview
from billing.tests.test_webhooks_yookassa import notify
from tenants.models import AuditEvent

pytestmark = pytest.mark.django_db

SUBSCRIBE = "/api/v1/billing/subscribe"
CANCEL = "/api/v1/billing/cancel"


def paid_account(organization, plan, *, currency="USD", provider="manual", days_used=10, **fields):
    """An account in the middle of a period it paid the plan's full price for (a few hours past a day
    boundary, so that the whole days left do not change while the test runs)."""
    start = timezone.now() - timedelta(days=days_used, hours=3)
    end = add_interval(start, plan.interval)
    account = BillingAccountFactory(
        organization=organization,
        plan=plan,
        provider=provider,
        currency=currency,
        current_period_start=start,
        current_period_end=end,
        **fields,
    )
    payment = PaymentFactory(
        account=account,
        provider=provider,
        plan=plan,
        amount=plan.prices.get(currency=currency).amount,
        currency=currency,
        status=PaymentStatus.SUCCEEDED,
        period_start=start,
        period_end=end,
    )
    return account, payment


def unused_value(payment) -> tuple[int, Decimal]:
    """Whole days left of the payment's period and their share of what it paid, to the cent."""
    now = timezone.now()
    days_paid = round((payment.period_end - payment.period_start).total_seconds() / 86400)
    days_left = int((payment.period_end - now).total_seconds() // 86400)
    return days_left, (payment.amount * days_left / days_paid).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def trial_days(trial_end) -> int:
    """Days of the trial left, today included."""
    return math.ceil((trial_end - timezone.now()) / timedelta(days=1))


def test_paying_during_a_trial_keeps_the_remaining_trial_days(auth_client, monthly, yearly):
    trial_end = timezone.now() + timedelta(days=9, hours=5)
    BillingAccountFactory(
        organization=auth_client.user.organization,
        plan=monthly,
        status=AccountStatus.TRIALING,
        trial_end=trial_end,
        current_period_end=trial_end,
    )

    shown = preview(auth_client, SUBSCRIBE, {"plan": "yearly", "provider": "manual"}).json()
    response = confirmed(auth_client, SUBSCRIBE, {"plan": "yearly", "provider": "manual"})

    assert response.status_code == 200, response.content
    assert (shown["change"], shown["trial_days_kept"], shown["amount_due"]) == (
        "subscribe",
        trial_days(trial_end),
        "199.99",
    )
    assert shown["starts_at"] == trial_end.isoformat().replace("+00:00", "Z")
    account = BillingAccount.objects.get(organization=auth_client.user.organization)
    assert (account.plan, account.status) == (yearly, AccountStatus.ACTIVE)
    assert account.current_period_end == add_interval(trial_end, "year")
    assert account.current_period_start <= timezone.now()
    payment = Payment.objects.get(account=account)
    assert (payment.amount, payment.period_start) == (Decimal("199.99"), trial_end)


def test_paying_through_yookassa_during_a_trial_keeps_the_trial_days(auth_client, fake_yookassa, monthly):
    trial_end = timezone.now() + timedelta(days=4, hours=5)
    BillingAccountFactory(
        organization=auth_client.user.organization,
        plan=monthly,
        currency="RUB",
        status=AccountStatus.TRIALING,
        trial_end=trial_end,
        current_period_end=trial_end,
    )

    body = confirmed(auth_client, SUBSCRIBE, {"plan": "monthly", "provider": "yookassa"}).json()
    external_id = Payment.objects.get(pk=body["payment_id"]).external_id
    fake_yookassa.set_status(external_id, "succeeded")
    notify(Client(), external_id)

    account = BillingAccount.objects.get(organization=auth_client.user.organization)
    assert account.status == AccountStatus.ACTIVE
    assert account.current_period_end == add_interval(trial_end, "month")


def test_paddle_cannot_keep_the_trial_and_the_preview_says_so(auth_client, fake_paddle, monthly):
    fake_paddle.prices["pri_monthly_USD"] = ("1999", "USD")
    trial_end = timezone.now() + timedelta(days=6, hours=5)
    BillingAccountFactory(
        organization=auth_client.user.organization,
        plan=monthly,
        status=AccountStatus.TRIALING,
        trial_end=trial_end,
        current_period_end=trial_end,
    )

    shown = preview(auth_client, SUBSCRIBE, {"plan": "monthly", "provider": "paddle"}).json()

    assert (shown["trial_days_kept"], shown["lost"]["days"]) == (0, trial_days(trial_end))
    assert set(shown["notes"]) == {"checkout", "trial_not_kept"}


def test_a_manual_upgrade_credits_the_unused_paid_days(auth_client, monthly, yearly):
    account, paid = paid_account(auth_client.user.organization, monthly)
    days_left, credit = unused_value(paid)

    shown = preview(auth_client, SUBSCRIBE, {"plan": "yearly", "provider": "manual"}).json()
    response = confirmed(auth_client, SUBSCRIBE, {"plan": "yearly", "provider": "manual"})

    assert response.status_code == 200, response.content
    assert shown["change"] == "upgrade"
    assert (Decimal(shown["price"]), Decimal(shown["credit"])) == (Decimal("199.99"), credit)
    assert Decimal(shown["amount_due"]) == Decimal("199.99") - credit
    assert shown["lost"]["days"] == 0 and credit > 0 and days_left > 0
    upgrade = Payment.objects.filter(account=account).exclude(pk=paid.pk).get()
    assert (upgrade.plan, upgrade.amount) == (yearly, Decimal("199.99") - credit)
    account.refresh_from_db()
    assert account.current_period_end == add_interval(account.current_period_start, "year")
    [row] = AuditEvent.objects.filter(organization=account.organization, action="subscription.upgraded")
    assert (row.before["plan"], row.after["plan"], row.actor) == ("monthly", "yearly", auth_client.user)


def test_a_yookassa_upgrade_charges_the_prorated_amount(auth_client, fake_yookassa, monthly):
    annual = make_plan("annual", interval="year", prices={"RUB": "9900.00"}, order=9)
    account, paid = paid_account(auth_client.user.organization, monthly, currency="RUB", provider="yookassa")
    _, credit = unused_value(paid)
    due = Decimal("9900.00") - credit

    body = confirmed(auth_client, SUBSCRIBE, {"plan": "annual", "provider": "yookassa"}).json()

    payment = Payment.objects.get(pk=body["payment_id"])
    assert payment.amount == due
    assert fake_yookassa.payments[payment.external_id]["amount"] == {"value": f"{due:.2f}", "currency": "RUB"}
    fake_yookassa.set_status(payment.external_id, "succeeded")
    assert notify(Client(), payment.external_id).json()["outcome"] == "processed"
    account.refresh_from_db()
    assert (account.plan, account.status) == (annual, AccountStatus.ACTIVE)


def test_a_paddle_upgrade_shows_that_the_unused_days_are_not_credited(auth_client, fake_paddle, monthly, yearly):
    fake_paddle.prices.update({"pri_monthly_USD": ("1999", "USD"), "pri_yearly_USD": ("19999", "USD")})
    _, paid = paid_account(auth_client.user.organization, monthly, provider="paddle", provider_subscription_id="s1")
    days_left, value = unused_value(paid)

    shown = preview(auth_client, SUBSCRIBE, {"plan": "yearly", "provider": "paddle"}).json()

    assert (shown["credit"], shown["amount_due"]) == ("0.00", "199.99")
    assert (shown["lost"]["days"], Decimal(shown["lost"]["value"])) == (days_left, value)
    assert "credit_not_applied" in shown["notes"]


def test_a_downgrade_costs_nothing_now_and_lists_what_is_lost(auth_client, monthly, weekly):
    coder, writer = AgentFactory(name="Coder"), AgentFactory(name="Writer")
    PlanAgent.objects.bulk_create([PlanAgent(plan=monthly, agent=coder), PlanAgent(plan=monthly, agent=writer)])
    PlanAgent.objects.create(plan=weekly, agent=writer)
    monthly.quota_requests, weekly.quota_requests = 10000, 1000
    monthly.max_members, weekly.max_members = None, 3
    monthly.features, weekly.features = ["email support", "API access"], ["email support"]
    monthly.save()
    weekly.save()
    weekly.channels = ["web", "telegram"]
    weekly.save()
    account, _ = paid_account(auth_client.user.organization, monthly)

    shown = preview(auth_client, SUBSCRIBE, {"plan": "weekly", "provider": "manual"}).json()

    assert (shown["change"], shown["amount_due"], shown["credit"]) == ("downgrade", "0.00", "0.00")
    assert shown["starts_at"] == account.current_period_end.isoformat().replace("+00:00", "Z")
    lost = shown["lost"]
    assert [agent["name"] for agent in lost["agents"]] == ["Coder"]
    assert (lost["features"], lost["channels"]) == (["API access"], ["api"])
    assert lost["quotas"] == [
        {"metric": "requests", "current": 10000, "new": 1000},
        {"metric": "members", "current": None, "new": 3},
    ]


def test_cancelling_now_shows_the_days_lost_and_no_refund(auth_client, yearly):
    _, paid = paid_account(auth_client.user.organization, yearly, days_used=30)
    days_left, value = unused_value(paid)

    shown = preview(auth_client, CANCEL, {"immediate": True}).json()

    assert shown["change"] == "cancel_now"
    assert (shown["lost"]["days"], Decimal(shown["lost"]["value"])) == (days_left, value)
    assert shown["notes"] == ["no_refund"]


def test_cancelling_at_the_period_end_loses_nothing_and_needs_no_confirmation(auth_client, monthly):
    paid_account(auth_client.user.organization, monthly)

    shown = preview(auth_client, CANCEL, {}).json()
    response = auth_client.post(CANCEL, {"immediate": False}, format="json")

    assert (shown["change"], shown["lost"]["days"]) == ("cancel_at_period_end", 0)
    assert response.status_code == 200 and response.json()["cancel_at_period_end"] is True


def test_the_preview_changes_nothing(auth_client, monthly, yearly, django_assert_max_num_queries):
    account, _ = paid_account(auth_client.user.organization, monthly)
    before = BillingAccount.objects.values().get(pk=account.pk)

    with django_assert_max_num_queries(12):
        response = preview(auth_client, SUBSCRIBE, {"plan": "yearly", "provider": "manual"})

    assert response.status_code == 200
    assert BillingAccount.objects.values().get(pk=account.pk) == before
    assert Payment.objects.filter(account=account).count() == 1
