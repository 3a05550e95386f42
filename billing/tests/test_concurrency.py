"""Races that only a real PostgreSQL shows: duplicate webhook deliveries and overlapping billing_tick runs."""

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from billing.models import AccountStatus, BillingAccount, Payment, PaymentStatus, WebhookEvent
from billing.tests.account_factories import BillingAccountFactory
from billing.tests.paddle_signing import notification, post_paddle
from tenants.models import AuditEvent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_in_threads(count, target):
    barrier = threading.Barrier(count)
    results, errors = [], []

    def worker():
        try:
            barrier.wait()
            results.append(target())
        except Exception as exc:  # noqa: BLE001 — surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


def test_twenty_concurrent_deliveries_of_one_event_make_one_payment_and_one_period(fake_paddle, monthly):
    fake_paddle.prices["pri_monthly_USD"] = ("1999", "USD")
    account = BillingAccountFactory(status=AccountStatus.NONE, current_period_start=None, current_period_end=None)
    transaction = fake_paddle.transaction(
        "pri_monthly_USD", custom_data={"organization_id": str(account.organization_id), "plan": "monthly"}
    )
    transaction.update(status="completed", customer_id="ctm_01", subscription_id="sub_01")
    payload = notification("transaction.completed", transaction)

    responses = run_in_threads(20, lambda: post_paddle(Client(), payload, fake_paddle.webhook_secret))

    assert [response.status_code for response in responses] == [200] * 20
    assert WebhookEvent.objects.count() == 1
    assert Payment.objects.filter(status=PaymentStatus.SUCCEEDED).count() == 1
    assert AuditEvent.objects.filter(action="subscription.activated").count() == 1
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE


def test_two_concurrent_billing_ticks_renew_each_account_once(monthly):
    accounts = [BillingAccountFactory(plan=monthly) for _ in range(12)]
    BillingAccount.objects.update(current_period_end=timezone.now() - timedelta(seconds=1))

    run_in_threads(2, lambda: call_command("billing_tick"))

    for account in accounts:
        assert AuditEvent.objects.filter(action="subscription.renewed", target_id=str(account.pk)).count() == 1
        assert Payment.objects.filter(account=account).count() == 1
        account.refresh_from_db()
        assert account.current_period_end > timezone.now()


def test_two_concurrent_ticks_charge_each_yookassa_renewal_once(fake_yookassa, monthly):
    accounts = [
        BillingAccountFactory(plan=monthly, provider="yookassa", currency="RUB", provider_payment_method_id=f"pm-{i}")
        for i in range(6)
    ]
    BillingAccount.objects.update(current_period_end=timezone.now() - timedelta(seconds=1))

    run_in_threads(2, lambda: call_command("billing_tick"))

    assert len([r for r in fake_yookassa.requests if r[0] == "POST"]) == 6
    for account in accounts:
        assert Payment.objects.filter(account=account, status=PaymentStatus.SUCCEEDED).count() == 1
