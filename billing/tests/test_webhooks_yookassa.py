"""YooKassa end to end: payments through the real SDK against the fake API, IP-checked notifications."""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from billing.models import AccountStatus, BillingAccount, Payment, PaymentStatus, WebhookEvent
from billing.tests.account_factories import BillingAccountFactory
from billing.tests.confirming import confirmed
from billing.tests.test_lifecycle import end_period
from tenants.models import AuditEvent

pytestmark = pytest.mark.django_db

YOOKASSA_IP = "185.71.76.5"


def notify(client, payment_id, event="payment.succeeded", ip=YOOKASSA_IP, **headers):
    body = {"type": "notification", "event": event, "object": {"id": payment_id, "status": event.split(".")[1]}}
    return client.post(
        "/api/v1/billing/webhooks/yookassa",
        data=json.dumps(body),
        content_type="application/json",
        REMOTE_ADDR=ip,
        **headers,
    )


def start_payment(auth_client, plan="monthly"):
    response = auth_client.post(
        "/api/v1/billing/payment",
        {"provider": "yookassa", "plan": plan, "return_url": "https://app.example.com/back"},
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_payment_is_created_with_idempotence_key_rub_amount_and_saved_method(auth_client, fake_yookassa, monthly):
    body = start_payment(auth_client)
    [(_, path, headers, sent)] = [r for r in fake_yookassa.requests if r[0] == "POST"]
    assert path == "/v3/payments"
    assert headers["Idempotence-Key"] == f"checkout-{body['payment_id']}"
    assert sent["amount"] == {"value": "990.00", "currency": "RUB"}
    assert sent["confirmation"] == {"type": "redirect", "return_url": "https://app.example.com/back"}
    assert sent["save_payment_method"] is True
    assert sent["metadata"]["plan"] == "monthly"
    assert "receipt" not in sent
    assert (
        body["confirmation_url"]
        == fake_yookassa.payments[body["provider_payment_id"]]["confirmation"]["confirmation_url"]
    )


def test_receipt_is_sent_when_receipts_are_on(auth_client, fake_yookassa, monthly, settings):
    settings.YOOKASSA_RECEIPTS = True
    start_payment(auth_client)
    sent = [r for r in fake_yookassa.requests if r[0] == "POST"][0][3]
    assert sent["receipt"]["customer"]["email"] == auth_client.user.email
    [item] = sent["receipt"]["items"]
    assert item["amount"] == {"value": "990.00", "currency": "RUB"}
    assert item["payment_subject"] == "service"


def test_subscribe_through_yookassa_returns_the_confirmation_url(auth_client, fake_yookassa, monthly):
    response = confirmed(auth_client, "/api/v1/billing/subscribe", {"plan": "monthly", "provider": "yookassa"})
    assert response.status_code == 200, response.content
    assert response.json()["checkout_url"].startswith("https://yoomoney.test/")
    assert response.json()["status"] == "none"


def test_yookassa_needs_a_rub_price(auth_client, fake_yookassa, yearly):
    response = confirmed(auth_client, "/api/v1/billing/subscribe", {"plan": "yearly", "provider": "yookassa"})
    assert response.status_code == 400
    assert response.json()["code"] == "currency_not_offered"


def test_notification_from_untrusted_ip_is_refused(api_client, auth_client, fake_yookassa, monthly):
    body = start_payment(auth_client)
    fake_yookassa.set_status(body["provider_payment_id"], "succeeded")
    response = notify(api_client, body["provider_payment_id"], ip="203.0.113.9")
    assert response.status_code == 403
    assert response.json()["code"] == "untrusted_source"
    assert not WebhookEvent.objects.exists()
    assert BillingAccount.objects.get(organization=auth_client.user.organization).status == AccountStatus.NONE


def test_trusted_ip_but_api_says_pending_changes_nothing(api_client, auth_client, fake_yookassa, monthly):
    body = start_payment(auth_client)
    response = notify(api_client, body["provider_payment_id"])
    assert response.status_code == 200
    assert response.json()["outcome"] == "ignored"
    assert BillingAccount.objects.get(organization=auth_client.user.organization).status == AccountStatus.NONE
    assert Payment.objects.get(pk=body["payment_id"]).status == PaymentStatus.PENDING
    assert ("GET", f"/v3/payments/{body['provider_payment_id']}") in [(r[0], r[1]) for r in fake_yookassa.requests]

    fake_yookassa.set_status(body["provider_payment_id"], "succeeded")
    assert notify(api_client, body["provider_payment_id"]).json()["outcome"] == "processed"


def test_succeeded_payment_starts_the_period_and_saves_the_method(api_client, auth_client, fake_yookassa, monthly):
    body = start_payment(auth_client)
    remote = fake_yookassa.set_status(body["provider_payment_id"], "succeeded")
    response = notify(api_client, body["provider_payment_id"])
    assert response.json()["outcome"] == "processed"
    account = BillingAccount.objects.get(organization=auth_client.user.organization)
    assert account.status == AccountStatus.ACTIVE
    assert account.plan == monthly and account.currency == "RUB"
    assert account.provider == "yookassa"
    assert account.provider_payment_method_id == remote["payment_method"]["id"]
    assert Payment.objects.get(pk=body["payment_id"]).status == PaymentStatus.SUCCEEDED
    row = AuditEvent.objects.get(action="subscription.activated")
    assert row.actor_label == f"webhook:yookassa:payment.succeeded:{body['provider_payment_id']}"


def test_client_ip_is_read_from_x_forwarded_for_behind_trusted_proxies(
    api_client, auth_client, fake_yookassa, monthly, settings
):
    settings.TRUSTED_PROXY_HOPS = 1
    body = start_payment(auth_client)
    fake_yookassa.set_status(body["provider_payment_id"], "succeeded")
    spoofed = notify(
        api_client, body["provider_payment_id"], ip="10.0.0.2", HTTP_X_FORWARDED_FOR=f"{YOOKASSA_IP}, 203.0.113.9"
    )
    assert spoofed.status_code == 403
    genuine = notify(
        api_client, body["provider_payment_id"], ip="10.0.0.2", HTTP_X_FORWARDED_FOR=f"203.0.113.9, {YOOKASSA_IP}"
    )
    assert genuine.status_code == 200


def test_amount_mismatch_is_refused_and_flagged(api_client, auth_client, fake_yookassa, monthly):
    body = start_payment(auth_client)
    fake_yookassa.set_status(body["provider_payment_id"], "succeeded", amount="1.00")
    response = notify(api_client, body["provider_payment_id"])
    assert response.json()["outcome"] == "refused"
    assert BillingAccount.objects.get(organization=auth_client.user.organization).status == AccountStatus.NONE
    assert AuditEvent.objects.filter(action="webhook.refused", organization=auth_client.user.organization).exists()


def test_canceled_payment_records_the_failure(api_client, auth_client, fake_yookassa, monthly):
    body = start_payment(auth_client)
    fake_yookassa.set_status(body["provider_payment_id"], "canceled")
    response = notify(api_client, body["provider_payment_id"], event="payment.canceled")
    assert response.json()["outcome"] == "processed"
    assert Payment.objects.get(pk=body["payment_id"]).status == PaymentStatus.CANCELED
    assert AuditEvent.objects.filter(action="payment.canceled").exists()
    assert BillingAccount.objects.get(organization=auth_client.user.organization).status == AccountStatus.NONE


def test_notification_claiming_success_is_not_trusted_when_api_says_canceled(
    api_client, auth_client, fake_yookassa, monthly
):
    body = start_payment(auth_client)
    fake_yookassa.set_status(body["provider_payment_id"], "canceled")
    notify(api_client, body["provider_payment_id"], event="payment.succeeded")
    assert BillingAccount.objects.get(organization=auth_client.user.organization).status == AccountStatus.NONE


def test_api_unreachable_leaves_the_event_failed_and_retryable(
    api_client, auth_client, fake_yookassa, monthly, settings
):
    body = start_payment(auth_client)
    fake_yookassa.set_status(body["provider_payment_id"], "succeeded")
    good_url = settings.YOOKASSA_API_URL
    settings.YOOKASSA_API_URL = "http://127.0.0.1:9/v3"
    response = notify(api_client, body["provider_payment_id"])
    assert response.status_code == 500
    event = WebhookEvent.objects.get()
    assert event.outcome == "failed" and event.error
    assert BillingAccount.objects.get(organization=auth_client.user.organization).status == AccountStatus.NONE

    settings.YOOKASSA_API_URL = good_url
    call_command("billing_retry_webhooks")
    event.refresh_from_db()
    assert event.outcome == "processed" and event.attempts == 2
    assert BillingAccount.objects.get(organization=auth_client.user.organization).status == AccountStatus.ACTIVE


def renewing_account(monthly):
    return BillingAccountFactory(
        plan=monthly, provider="yookassa", currency="RUB", provider_payment_method_id="pm-saved-1"
    )


def test_billing_tick_renews_with_the_saved_method(fake_yookassa, monthly):
    account = renewing_account(monthly)
    end_period(account)
    old_end = BillingAccount.objects.get(pk=account.pk).current_period_end
    call_command("billing_tick")
    [(_, _, headers, sent)] = [r for r in fake_yookassa.requests if r[0] == "POST"]
    assert sent["payment_method_id"] == "pm-saved-1"
    assert sent["amount"] == {"value": "990.00", "currency": "RUB"}
    assert headers["Idempotence-Key"].startswith(f"renew-{account.pk}-")
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE
    assert account.current_period_start == old_end
    assert Payment.objects.get(account=account).status == PaymentStatus.SUCCEEDED
    assert AuditEvent.objects.filter(action="subscription.renewed", actor_label="billing_tick").count() == 1


def test_declined_renewal_goes_past_due(fake_yookassa, monthly):
    fake_yookassa.auto_status = "canceled"
    account = renewing_account(monthly)
    end_period(account)
    call_command("billing_tick")
    account.refresh_from_db()
    assert account.status == AccountStatus.PAST_DUE
    assert Payment.objects.get(account=account).status == PaymentStatus.CANCELED


def test_pending_renewal_is_applied_by_the_later_notification(api_client, fake_yookassa, monthly):
    fake_yookassa.auto_status = "pending"
    account = renewing_account(monthly)
    end_period(account)
    call_command("billing_tick")
    account.refresh_from_db()
    assert account.status == AccountStatus.PAST_DUE
    payment = Payment.objects.get(account=account)
    fake_yookassa.set_status(payment.external_id, "succeeded")
    notify(api_client, payment.external_id)
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE
    assert account.current_period_start == payment.period_start


# --- Issue 11 #15: ignored notifications retried, pending payments reconciled, unknown payments refused ---


def test_an_ignored_notification_is_retried_once_yookassa_confirms_the_payment(
    api_client, auth_client, fake_yookassa, monthly
):
    body = start_payment(auth_client)
    assert notify(api_client, body["provider_payment_id"]).json()["outcome"] == "ignored"
    fake_yookassa.set_status(body["provider_payment_id"], "succeeded")

    call_command("billing_retry_webhooks")

    event = WebhookEvent.objects.get()
    assert (event.outcome, event.attempts) == ("processed", 2)
    assert BillingAccount.objects.get(organization=auth_client.user.organization).status == AccountStatus.ACTIVE


def test_ignored_events_that_cannot_change_are_not_retried(api_client, fake_yookassa):
    assert notify(api_client, "refund-1", event="refund.succeeded").json()["outcome"] == "ignored"

    call_command("billing_retry_webhooks")

    assert WebhookEvent.objects.get().attempts == 1


def test_a_notification_for_a_payment_yookassa_does_not_have_is_refused_and_answered_200(api_client, fake_yookassa):
    response = notify(api_client, "2d7a8f0e-no-such-payment")

    assert response.status_code == 200
    assert response.json()["outcome"] == "refused"
    event = WebhookEvent.objects.get()
    assert event.outcome == "refused" and "no payment" in event.error
    assert AuditEvent.objects.filter(action="webhook.refused").count() == 1


def age(payment_pk, minutes):
    Payment.objects.filter(pk=payment_pk).update(updated_at=timezone.now() - timedelta(minutes=minutes))


def test_billing_tick_reconciles_a_payment_pending_for_more_than_ten_minutes(auth_client, fake_yookassa, monthly):
    body = start_payment(auth_client)
    fake_yookassa.set_status(body["provider_payment_id"], "succeeded")
    age(body["payment_id"], 11)

    call_command("billing_tick")

    assert Payment.objects.get(pk=body["payment_id"]).status == PaymentStatus.SUCCEEDED
    account = BillingAccount.objects.get(organization=auth_client.user.organization)
    assert (account.status, account.plan.code) == (AccountStatus.ACTIVE, "monthly")
    assert AuditEvent.objects.get(action="subscription.activated").actor_label == "billing_tick"


def test_billing_tick_records_a_payment_yookassa_canceled(auth_client, fake_yookassa, monthly):
    body = start_payment(auth_client)
    fake_yookassa.set_status(body["provider_payment_id"], "canceled")
    age(body["payment_id"], 11)

    call_command("billing_tick")

    assert Payment.objects.get(pk=body["payment_id"]).status == PaymentStatus.CANCELED


def test_billing_tick_leaves_a_recent_pending_payment_alone(auth_client, fake_yookassa, monthly):
    body = start_payment(auth_client)
    fake_yookassa.set_status(body["provider_payment_id"], "succeeded")
    age(body["payment_id"], 9)

    call_command("billing_tick")

    assert [r for r in fake_yookassa.requests if r[0] == "GET"] == []
    assert Payment.objects.get(pk=body["payment_id"]).status == PaymentStatus.PENDING


def test_billing_tick_fails_a_checkout_that_never_got_its_yookassa_id(auth_client, fake_yookassa, monthly):
    account = BillingAccountFactory(organization=auth_client.user.organization, plan=monthly, currency="RUB")
    stuck = Payment.objects.create(
        account=account, provider="yookassa", external_id="pending-0f1e", amount=990, currency="RUB", plan=monthly
    )
    age(stuck.pk, 11)

    call_command("billing_tick")

    stuck.refresh_from_db()
    assert stuck.status == PaymentStatus.FAILED
    assert fake_yookassa.requests == []
