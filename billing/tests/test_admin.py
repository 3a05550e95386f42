"""The operator console: accounts change only through actions that call the services."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing import services
from billing.models import AccountStatus, BillingAccount, Payment, PaymentStatus, WebhookEvent, WebhookOutcome
from billing.tests.account_factories import BillingAccountFactory, PaymentFactory
from tenants.models import AuditEvent
from tenants.tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/billing/billingaccount/"


def run_action(admin_client, action, accounts, **form):
    data = {"action": action, "_selected_action": [a.pk for a in accounts]}
    first = admin_client.post(CHANGELIST, data)
    assert first.status_code == 200, "the action first shows its form"
    return admin_client.post(CHANGELIST, {**data, "apply": "1", **form})


def test_account_list_and_page_load_with_audit_history(admin_client, monthly, django_assert_max_num_queries):
    accounts = [BillingAccountFactory(plan=monthly) for _ in range(5)]
    services.cancel(organization=accounts[0].organization, actor=None)
    with django_assert_max_num_queries(12):
        assert admin_client.get(CHANGELIST + "?q=Org").status_code == 200
    page = admin_client.get(f"{CHANGELIST}{accounts[0].pk}/change/")
    assert page.status_code == 200
    assert b"subscription.cancel_scheduled" in page.content


def test_status_cannot_be_edited_directly(admin_client, monthly):
    account = BillingAccountFactory(plan=monthly)
    admin_client.post(f"{CHANGELIST}{account.pk}/change/", {"status": "expired", "plan": ""})
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE and account.plan == monthly


def test_grant_plan_action(admin_client, admin_user, yearly):
    organization = OrganizationFactory()
    account = BillingAccount.objects.create(organization=organization)
    response = run_action(admin_client, "grant_plan", [account], plan=yearly.pk, periods=2)
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE and account.plan == yearly
    row = AuditEvent.objects.get(action="subscription.granted")
    assert row.actor == admin_user


def test_grant_plan_form_rejects_zero_periods(admin_client, yearly):
    account = BillingAccountFactory(status=AccountStatus.NONE)
    response = run_action(admin_client, "grant_plan", [account], plan=yearly.pk, periods=0)
    assert response.status_code == 200
    account.refresh_from_db()
    assert account.status == AccountStatus.NONE


def test_extend_trial_action(admin_client, monthly):
    organization = OrganizationFactory()
    trial = services.start_trial(organization=organization, actor=None)
    run_action(admin_client, "extend_trial", [trial], days=5)
    account = BillingAccount.objects.get(pk=trial.pk)
    assert account.trial_end == trial.trial_end + timedelta(days=5)


def test_cancel_now_action(admin_client, monthly):
    account = BillingAccountFactory(plan=monthly)
    run_action(admin_client, "cancel_now", [account], confirm="on")
    account.refresh_from_db()
    assert account.status == AccountStatus.CANCELED
    assert AuditEvent.objects.get(action="subscription.canceled").actor_label.startswith("operator:")


def test_webhook_event_payload_is_shown_and_retry_processes_a_failed_event(admin_client, settings):
    settings.YOOKASSA_SHOP_ID, settings.YOOKASSA_SECRET_KEY = "1", "k"
    event = WebhookEvent.objects.create(
        provider="yookassa",
        event_id="refund.succeeded:r1",
        event_type="refund.succeeded",
        payload={"event": "refund.succeeded", "object": {"id": "r1"}},
        outcome=WebhookOutcome.FAILED,
    )
    page = admin_client.get(f"/admin/billing/webhookevent/{event.pk}/change/")
    assert page.status_code == 200 and b"refund.succeeded" in page.content
    admin_client.post("/admin/billing/webhookevent/", {"action": "retry", "_selected_action": [event.pk]})
    event.refresh_from_db()
    assert event.outcome == WebhookOutcome.IGNORED and event.attempts == 1


def test_revenue_page_sums_succeeded_payments_per_day_plan_and_currency(admin_client, monthly):
    account = BillingAccountFactory(plan=monthly)
    for amount in ("19.99", "19.99"):
        PaymentFactory(account=account, plan=monthly, amount=Decimal(amount), status=PaymentStatus.SUCCEEDED)
    PaymentFactory(account=account, plan=monthly, amount=Decimal("990"), currency="RUB", status=PaymentStatus.SUCCEEDED)
    PaymentFactory(account=account, plan=monthly, amount=Decimal("5"), status=PaymentStatus.CANCELED)
    old = PaymentFactory(account=account, plan=monthly, status=PaymentStatus.SUCCEEDED)
    Payment.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=90))

    page = admin_client.get("/admin/billing/payment/revenue/")
    assert page.status_code == 200
    rows = {(row["plan__code"], row["currency"]): row for row in page.context["rows"]}
    assert rows[("monthly", "USD")]["total"] == Decimal("39.98") and rows[("monthly", "USD")]["payments"] == 2
    assert rows[("monthly", "RUB")]["total"] == Decimal("990")
    assert page.context["totals"] == {"RUB": Decimal("990"), "USD": Decimal("39.98")}

    today = timezone.now().date()
    wide = admin_client.get(f"/admin/billing/payment/revenue/?start={today - timedelta(days=100)}&end={today}")
    assert wide.context["totals"]["USD"] == Decimal("39.98") + old.amount


def test_payment_list_shows_money_with_its_currency_and_two_decimals(admin_client):
    PaymentFactory(amount=Decimal("19.99"), currency="USD")
    PaymentFactory(amount=Decimal("990"), currency="RUB")

    html = admin_client.get("/admin/billing/payment/").content.decode()

    assert '<td class="field-amount_with_currency">19.99 USD</td>' in html
    assert '<td class="field-amount_with_currency">990.00 RUB</td>' in html


def test_revenue_page_shows_money_with_its_currency_and_two_decimals(admin_client, monthly):
    account = BillingAccountFactory(plan=monthly)
    PaymentFactory(account=account, plan=monthly, amount=Decimal("19.9"), status=PaymentStatus.SUCCEEDED)
    PaymentFactory(account=account, plan=monthly, amount=Decimal("990"), currency="RUB", status=PaymentStatus.SUCCEEDED)

    html = admin_client.get("/admin/billing/payment/revenue/").content.decode()

    assert '<td class="amount">19.90 USD</td>' in html and '<td class="amount">990.00 RUB</td>' in html
    assert "<li>19.90 USD</li>" in html and "<li>990.00 RUB</li>" in html
    assert "19.9000" not in html
