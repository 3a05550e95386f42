"""Issue 16 item 1: webhook events are processed by a task, retried with backoff by the periodic
retry, and given up (`dead`) after WEBHOOK_MAX_ATTEMPTS; the tick and the reconciliation are tasks.
With no broker (the tests' default) every task runs inline."""

from datetime import timedelta

import pytest
from django.utils import timezone

from billing import tasks
from billing.models import AccountStatus, BillingAccount, Payment, PaymentStatus, WebhookEvent, WebhookOutcome
from billing.tests.account_factories import BillingAccountFactory
from billing.tests.test_webhooks_yookassa import notify, start_payment

pytestmark = pytest.mark.django_db


def _failed_event(api_client, auth_client, fake_yookassa, settings) -> WebhookEvent:
    body = start_payment(auth_client)
    fake_yookassa.set_status(body["provider_payment_id"], "succeeded")
    good_url = settings.YOOKASSA_API_URL
    settings.YOOKASSA_API_URL = "http://127.0.0.1:9/v3"
    assert notify(api_client, body["provider_payment_id"]).status_code == 500
    settings.YOOKASSA_API_URL = good_url
    return WebhookEvent.objects.get()


def test_a_failed_event_waits_twice_as_long_after_each_attempt(
    api_client, auth_client, fake_yookassa, monthly, settings
):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 300
    event = _failed_event(api_client, auth_client, fake_yookassa, settings)
    assert (event.outcome, event.attempts) == (WebhookOutcome.FAILED, 1)
    first_wait = event.next_attempt_at - timezone.now()

    settings.YOOKASSA_API_URL = "http://127.0.0.1:9/v3"
    tasks.process_webhook_event.delay(event_pk=event.pk)
    event.refresh_from_db()
    second_wait = event.next_attempt_at - timezone.now()

    assert event.attempts == 2
    assert timedelta(seconds=290) < first_wait <= timedelta(seconds=300)
    assert timedelta(seconds=590) < second_wait <= timedelta(seconds=600)


def test_the_periodic_retry_processes_only_events_whose_attempt_is_due(
    api_client, auth_client, fake_yookassa, monthly, settings
):
    event = _failed_event(api_client, auth_client, fake_yookassa, settings)

    assert tasks.retry_webhooks.delay().get() == 0
    event.refresh_from_db()
    assert (event.outcome, event.attempts) == (WebhookOutcome.FAILED, 1)

    WebhookEvent.objects.filter(pk=event.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert tasks.retry_webhooks.delay().get() == 1

    event.refresh_from_db()
    assert (event.outcome, event.attempts, event.next_attempt_at) == (WebhookOutcome.PROCESSED, 2, None)
    assert BillingAccount.objects.get(organization=auth_client.user.organization).status == AccountStatus.ACTIVE


def test_an_event_that_keeps_failing_is_dead_after_the_last_attempt_and_no_longer_retried(
    api_client, auth_client, fake_yookassa, monthly, settings
):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    event = _failed_event(api_client, auth_client, fake_yookassa, settings)
    settings.YOOKASSA_API_URL = "http://127.0.0.1:9/v3"
    for _ in range(2):
        WebhookEvent.objects.filter(pk=event.pk).update(next_attempt_at=timezone.now())
        tasks.retry_webhooks.delay()

    event.refresh_from_db()
    assert (event.outcome, event.attempts, event.next_attempt_at) == (WebhookOutcome.DEAD, 3, None)
    assert tasks.retry_webhooks.delay().get() == 0


def test_the_admin_retry_still_processes_a_dead_event(
    admin_client, api_client, auth_client, fake_yookassa, monthly, settings
):
    event = _failed_event(api_client, auth_client, fake_yookassa, settings)
    WebhookEvent.objects.filter(pk=event.pk).update(outcome=WebhookOutcome.DEAD, next_attempt_at=None)

    listed = admin_client.get("/admin/billing/webhookevent/", {"outcome__exact": "dead"})
    assert event.event_id in listed.content.decode()
    admin_client.post("/admin/billing/webhookevent/", {"action": "retry", "_selected_action": [event.pk]})

    event.refresh_from_db()
    assert event.outcome == WebhookOutcome.PROCESSED


def test_an_event_whose_task_was_lost_is_processed_by_the_periodic_retry(auth_client, fake_yookassa, monthly):
    body = start_payment(auth_client)
    fake_yookassa.set_status(body["provider_payment_id"], "succeeded")
    event = WebhookEvent.objects.create(
        provider="yookassa",
        event_id=f"payment.succeeded:{body['provider_payment_id']}",
        event_type="payment.succeeded",
        payload={"event": "payment.succeeded", "object": {"id": body["provider_payment_id"]}},
    )
    assert tasks.retry_webhooks.delay().get() == 0  # just received: its own task may still be queued

    WebhookEvent.objects.filter(pk=event.pk).update(received_at=timezone.now() - timedelta(minutes=3))
    assert tasks.retry_webhooks.delay().get() == 1

    event.refresh_from_db()
    assert event.outcome == WebhookOutcome.PROCESSED


def test_the_tick_task_closes_ended_periods(monthly):
    account = BillingAccountFactory(
        plan=monthly,
        status=AccountStatus.ACTIVE,
        cancel_at_period_end=True,
        current_period_end=timezone.now() - timedelta(minutes=1),
    )

    assert tasks.billing_tick.delay().get() == {"canceled": 1}

    account.refresh_from_db()
    assert account.status == AccountStatus.CANCELED


def test_the_reconciliation_task_applies_what_yookassa_says_of_a_stale_pending_payment(
    auth_client, fake_yookassa, monthly
):
    body = start_payment(auth_client)
    fake_yookassa.set_status(body["provider_payment_id"], "succeeded")
    assert tasks.reconcile_pending_payments.delay().get() == 0  # pending for less than ten minutes

    Payment.objects.filter(pk=body["payment_id"]).update(updated_at=timezone.now() - timedelta(minutes=11))
    assert tasks.reconcile_pending_payments.delay().get() == 1

    assert Payment.objects.get(pk=body["payment_id"]).status == PaymentStatus.SUCCEEDED
    assert BillingAccount.objects.get(organization=auth_client.user.organization).status == AccountStatus.ACTIVE
