"""Paddle end to end: checkout through the real SDK against the fake API, signed webhooks in."""

import copy
import json
import time
from datetime import UTC, datetime, timedelta

import environ
import pytest

from billing.models import AccountStatus, BillingAccount, Payment, PaymentStatus, WebhookEvent, WebhookOutcome
from billing.tests.account_factories import BillingAccountFactory
from billing.tests.confirming import confirmed
from billing.tests.paddle_signing import notification, post_paddle
from tenants.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def paddle(fake_paddle, monthly, yearly):
    fake_paddle.prices["pri_monthly_USD"] = ("1999", "USD")
    fake_paddle.prices["pri_yearly_USD"] = ("19999", "USD")
    return fake_paddle


def start_checkout(auth_client, plan="monthly"):
    response = confirmed(auth_client, "/api/v1/billing/subscribe", {"plan": plan, "provider": "paddle"})
    assert response.status_code == 200, response.content
    return response.json()


def completed(fake, transaction_id, **changes):
    """The transaction as Paddle sends it in transaction.completed."""
    data = copy.deepcopy(fake.transactions[transaction_id])
    start = datetime.now(UTC).replace(microsecond=0)
    data.update(
        status="completed",
        customer_id="ctm_01",
        subscription_id="sub_01",
        billing_period={
            "starts_at": start.isoformat().replace("+00:00", "Z"),
            "ends_at": (start + timedelta(days=30)).isoformat().replace("+00:00", "Z"),
        },
    )
    data.update(changes)
    return data


def test_checkout_creates_a_paddle_transaction_and_returns_its_url(auth_client, paddle):
    body = start_checkout(auth_client)
    [(method, path, sent)] = [r for r in paddle.requests if r[0] == "POST"]
    assert (method, path) == ("POST", "/transactions")
    assert sent["items"] == [{"price_id": "pri_monthly_USD", "quantity": 1}]
    assert sent["custom_data"]["organization_id"] == str(auth_client.user.organization_id)
    assert sent["custom_data"]["plan"] == "monthly"
    payment = Payment.objects.get(pk=body["payment_id"])
    assert body["checkout_url"] == paddle.transactions[payment.external_id]["checkout"]["url"]
    assert payment.status == PaymentStatus.PENDING
    assert body["status"] == "none"


def test_paddle_api_failure_answers_502_and_leaves_nothing(auth_client, paddle):
    paddle.fail_next = True
    response = confirmed(auth_client, "/api/v1/billing/subscribe", {"plan": "monthly", "provider": "paddle"})
    assert response.status_code == 502
    assert response.json()["code"] == "provider_error"
    assert not Payment.objects.exists()


def test_valid_transaction_completed_starts_the_paid_period(api_client, auth_client, paddle):
    payment = Payment.objects.get(pk=start_checkout(auth_client)["payment_id"])
    data = completed(paddle, payment.external_id)
    payload = notification("transaction.completed", data)
    response = post_paddle(api_client, payload, paddle.webhook_secret)
    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "processed"

    account = BillingAccount.objects.get(organization=auth_client.user.organization)
    assert account.status == AccountStatus.ACTIVE
    assert account.plan.code == "monthly"
    assert account.provider == "paddle"
    assert (account.provider_subscription_id, account.provider_customer_id) == ("sub_01", "ctm_01")
    assert account.current_period_end.isoformat().startswith(data["billing_period"]["ends_at"][:19])
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    row = AuditEvent.objects.get(organization=account.organization, action="subscription.activated")
    assert row.actor_label == f"webhook:paddle:{payload['event_id']}"
    assert WebhookEvent.objects.get(event_id=payload["event_id"]).outcome == WebhookOutcome.PROCESSED


def test_wrong_secret_is_rejected_and_nothing_is_stored(api_client, auth_client, paddle):
    payment = Payment.objects.get(pk=start_checkout(auth_client)["payment_id"])
    payload = notification("transaction.completed", completed(paddle, payment.external_id))
    response = post_paddle(api_client, payload, "pdl_ntfset_someone_else")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert not WebhookEvent.objects.exists()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING


def test_stale_timestamp_is_rejected(api_client, auth_client, paddle):
    payment = Payment.objects.get(pk=start_checkout(auth_client)["payment_id"])
    payload = notification("transaction.completed", completed(paddle, payment.external_id))
    response = post_paddle(api_client, payload, paddle.webhook_secret, timestamp=int(time.time()) - 6)
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_missing_or_garbled_signature_header_is_rejected(api_client, paddle):
    body = json.dumps(notification("transaction.completed", {})).encode()
    for header in (None, "garbage", "ts=abc;h1=00", "ts=1;v9=zz"):
        extra = {"HTTP_PADDLE_SIGNATURE": header} if header else {}
        response = api_client.post(
            "/api/v1/billing/webhooks/paddle", data=body, content_type="application/json", **extra
        )
        assert response.status_code == 400, header


def test_rotated_secrets_are_all_accepted(api_client, auth_client, paddle, settings):
    settings.PADDLE_WEBHOOK_SECRET = ["pdl_ntfset_new_secret", paddle.webhook_secret]
    payment = Payment.objects.get(pk=start_checkout(auth_client)["payment_id"])
    payload = notification("transaction.completed", completed(paddle, payment.external_id))
    assert post_paddle(api_client, payload, paddle.webhook_secret).status_code == 200
    assert post_paddle(api_client, notification("x.y", {}), "pdl_ntfset_new_secret").status_code == 200


def test_replayed_webhook_changes_nothing(api_client, auth_client, paddle):
    payment = Payment.objects.get(pk=start_checkout(auth_client)["payment_id"])
    payload = notification("transaction.completed", completed(paddle, payment.external_id))
    assert post_paddle(api_client, payload, paddle.webhook_secret).status_code == 200
    account = BillingAccount.objects.get(organization=auth_client.user.organization)
    audit_rows = AuditEvent.objects.count()

    replay = post_paddle(api_client, payload, paddle.webhook_secret)
    assert replay.status_code == 200
    assert replay.json()["outcome"] == "processed"
    assert AuditEvent.objects.count() == audit_rows
    assert BillingAccount.objects.get(pk=account.pk).current_period_end == account.current_period_end
    assert Payment.objects.filter(status=PaymentStatus.SUCCEEDED).count() == 1
    assert WebhookEvent.objects.get().attempts == 1


def test_amount_mismatch_is_refused_and_flagged(api_client, auth_client, paddle):
    payment = Payment.objects.get(pk=start_checkout(auth_client)["payment_id"])
    data = completed(paddle, payment.external_id)
    data["items"][0]["price"]["unit_price"]["amount"] = "100"
    payload = notification("transaction.completed", data)
    response = post_paddle(api_client, payload, paddle.webhook_secret)
    assert response.status_code == 200
    assert response.json()["outcome"] == "refused"
    event = WebhookEvent.objects.get()
    assert "does not match our price" in event.error
    assert BillingAccount.objects.get(organization=auth_client.user.organization).status == AccountStatus.NONE
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    flagged = AuditEvent.objects.get(action="webhook.refused")
    assert flagged.organization == auth_client.user.organization


def test_currency_mismatch_is_refused(api_client, auth_client, paddle):
    payment = Payment.objects.get(pk=start_checkout(auth_client)["payment_id"])
    data = completed(paddle, payment.external_id)
    data["items"][0]["price"]["unit_price"]["currency_code"] = "EUR"
    response = post_paddle(api_client, notification("transaction.completed", data), paddle.webhook_secret)
    assert response.json()["outcome"] == "refused"


def paddle_account(organization=None, **fields):
    kwargs = {"organization": organization} if organization else {}
    return BillingAccountFactory(provider="paddle", provider_subscription_id="sub_01", **kwargs, **fields)


def subscription_data(paddle, status="active", **changes):
    data = copy.deepcopy(paddle.add_subscription("sub_01", price_id="pri_monthly_USD"))
    start = datetime.now(UTC).replace(microsecond=0)
    data.update(
        status=status,
        current_billing_period={
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(days=31)).isoformat(),
        },
    )
    data.update(changes)
    return data


def test_subscription_canceled_webhook_cancels(api_client, paddle, monthly):
    account = paddle_account(plan=monthly)
    data = subscription_data(paddle, status="canceled")
    response = post_paddle(api_client, notification("subscription.canceled", data), paddle.webhook_secret)
    assert response.json()["outcome"] == "processed"
    account.refresh_from_db()
    assert account.status == AccountStatus.CANCELED
    assert AuditEvent.objects.filter(action="subscription.canceled", organization=account.organization).exists()


def test_subscription_past_due_webhook_marks_past_due(api_client, paddle, monthly):
    account = paddle_account(plan=monthly)
    data = subscription_data(paddle, status="past_due")
    post_paddle(api_client, notification("subscription.past_due", data), paddle.webhook_secret)
    account.refresh_from_db()
    assert account.status == AccountStatus.PAST_DUE and account.past_due_since is not None


def test_subscription_updated_renews_the_period_from_paddle(api_client, paddle, monthly):
    account = paddle_account(plan=monthly)
    data = subscription_data(paddle)
    post_paddle(api_client, notification("subscription.updated", data), paddle.webhook_secret)
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE
    assert account.current_period_end.isoformat()[:19] == data["current_billing_period"]["ends_at"][:19]
    assert AuditEvent.objects.filter(action="subscription.updated").count() == 1


def test_cancel_at_period_end_schedules_the_cancellation_at_paddle(auth_client, paddle, monthly):
    paddle.add_subscription("sub_01", price_id="pri_monthly_USD")
    paddle_account(organization=auth_client.user.organization, plan=monthly)
    response = confirmed(auth_client, "/api/v1/billing/cancel", {})
    assert response.status_code == 200
    assert ("POST", "/subscriptions/sub_01/cancel", {"effective_from": "next_billing_period"}) in paddle.requests
    assert paddle.subscriptions["sub_01"]["scheduled_change"]["action"] == "cancel"

    resumed = auth_client.post("/api/v1/billing/resume", format="json")
    assert resumed.status_code == 200
    assert paddle.subscriptions["sub_01"]["scheduled_change"] is None


def test_cancel_immediately_cancels_at_paddle(auth_client, paddle, monthly):
    paddle.add_subscription("sub_01", price_id="pri_monthly_USD")
    paddle_account(organization=auth_client.user.organization, plan=monthly)
    confirmed(auth_client, "/api/v1/billing/cancel", {"immediate": True})
    assert paddle.subscriptions["sub_01"]["status"] == "canceled"


def test_webhook_for_disabled_provider_answers_404(api_client):
    response = api_client.post("/api/v1/billing/webhooks/paddle", data=b"{}", content_type="application/json")
    assert response.status_code == 404


def test_upgrade_through_a_new_paddle_checkout_stops_the_old_subscription(
    api_client, auth_client, paddle, monthly, django_capture_on_commit_callbacks
):
    paddle.add_subscription("sub_old", price_id="pri_monthly_USD")
    BillingAccountFactory(
        organization=auth_client.user.organization, plan=monthly, provider="paddle", provider_subscription_id="sub_old"
    )
    payment = Payment.objects.get(pk=start_checkout(auth_client, plan="yearly")["payment_id"])
    payload = notification("transaction.completed", completed(paddle, payment.external_id, subscription_id="sub_new"))
    with django_capture_on_commit_callbacks(execute=True):
        assert post_paddle(api_client, payload, paddle.webhook_secret).json()["outcome"] == "processed"

    account = BillingAccount.objects.get(organization=auth_client.user.organization)
    assert (account.plan.code, account.provider_subscription_id) == ("yearly", "sub_new")
    assert paddle.subscriptions["sub_old"]["status"] == "canceled"
    assert AuditEvent.objects.filter(action="subscription.upgraded").count() == 1


def test_paddle_failing_to_stop_the_replaced_subscription_keeps_the_paid_upgrade_and_flags_it(
    api_client, auth_client, paddle, monthly, django_capture_on_commit_callbacks
):
    """The old subscription is cancelled after the new one is committed (no provider call inside the
    transaction); if Paddle refuses, the customer keeps what they paid for and operators are told."""
    BillingAccountFactory(
        organization=auth_client.user.organization, plan=monthly, provider="paddle", provider_subscription_id="sub_gone"
    )
    payment = Payment.objects.get(pk=start_checkout(auth_client, plan="yearly")["payment_id"])
    payload = notification("transaction.completed", completed(paddle, payment.external_id, subscription_id="sub_new"))
    with django_capture_on_commit_callbacks(execute=True):
        assert post_paddle(api_client, payload, paddle.webhook_secret).json()["outcome"] == "processed"

    account = BillingAccount.objects.get(organization=auth_client.user.organization)
    assert (account.plan.code, account.provider_subscription_id) == ("yearly", "sub_new")
    flagged = AuditEvent.objects.get(action="subscription.replaced_cancel_failed")
    assert flagged.after["subscription_id"] == "sub_gone"


def paddle_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def at(event_type: str, data: dict, occurred_at: datetime) -> dict:
    """A notification that Paddle says happened at `occurred_at`."""
    payload = notification(event_type, data)
    payload["occurred_at"] = paddle_time(occurred_at)
    return payload


def subscription_now(paddle, start: datetime, end: datetime, subscription_id: str = "sub_01") -> dict:
    """The fake's current state of the subscription, with the billing period Paddle reports."""
    data = copy.deepcopy(paddle.subscriptions[subscription_id])
    data["current_billing_period"] = {"starts_at": paddle_time(start), "ends_at": paddle_time(end)}
    return data


@pytest.fixture
def yearly_on_paddle(auth_client, paddle, yearly):
    paddle.add_subscription("sub_01", price_id="pri_yearly_USD")
    return paddle_account(organization=auth_client.user.organization, plan=yearly)


def downgrade(auth_client):
    return confirmed(auth_client, "/api/v1/billing/subscribe", {"plan": "monthly", "provider": "paddle"})


def test_downgrade_on_paddle_bills_the_new_price_from_the_next_period(auth_client, paddle, yearly_on_paddle):
    response = downgrade(auth_client)
    assert response.status_code == 200, response.content

    [(_, path, sent)] = [r for r in paddle.requests if r[0] == "PATCH"]
    assert path == "/subscriptions/sub_01"
    assert sent == {
        "items": [{"price_id": "pri_monthly_USD", "quantity": 1}],
        "proration_billing_mode": "full_next_billing_period",
    }
    assert [item["price"]["id"] for item in paddle.subscriptions["sub_01"]["items"]] == ["pri_monthly_USD"]
    account = BillingAccount.objects.get(pk=yearly_on_paddle.pk)
    assert (account.plan.code, account.scheduled_plan.code) == ("yearly", "monthly")
    assert AuditEvent.objects.filter(action="subscription.downgrade_scheduled").count() == 1


def test_taking_back_a_downgrade_restores_the_price_at_paddle(auth_client, paddle, yearly_on_paddle):
    downgrade(auth_client)
    response = confirmed(auth_client, "/api/v1/billing/subscribe", {"plan": "yearly", "provider": "paddle"})
    assert response.status_code == 200, response.content
    assert [item["price"]["id"] for item in paddle.subscriptions["sub_01"]["items"]] == ["pri_yearly_USD"]
    assert BillingAccount.objects.get(pk=yearly_on_paddle.pk).scheduled_plan is None


def test_resume_after_cancelling_keeps_the_scheduled_downgrade_at_paddle(auth_client, paddle, yearly_on_paddle):
    assert downgrade(auth_client).status_code == 200
    assert confirmed(auth_client, "/api/v1/billing/cancel", {}).status_code == 200
    assert paddle.subscriptions["sub_01"]["scheduled_change"]["action"] == "cancel"

    response = auth_client.post("/api/v1/billing/resume", format="json")

    assert response.status_code == 200, response.content
    shown = response.json()
    assert (shown["plan"]["code"], shown["scheduled_plan"]["code"], shown["cancel_at_period_end"]) == (
        "yearly",
        "monthly",
        False,
    )
    method, path, sent = paddle.requests[-1]
    assert (method, path) == ("PATCH", "/subscriptions/sub_01")
    assert sent == {
        "scheduled_change": None,
        "items": [{"price_id": "pri_monthly_USD", "quantity": 1}],
        "proration_billing_mode": "full_next_billing_period",
    }
    at_paddle = paddle.subscriptions["sub_01"]
    assert at_paddle["scheduled_change"] is None
    assert [item["price"]["id"] for item in at_paddle["items"]] == ["pri_monthly_USD"]


def test_a_resume_paddle_refuses_leaves_the_cancellation_scheduled(auth_client, paddle, yearly_on_paddle):
    downgrade(auth_client)
    confirmed(auth_client, "/api/v1/billing/cancel", {})
    paddle.fail_next = True

    response = auth_client.post("/api/v1/billing/resume", format="json")

    assert response.status_code == 502
    account = BillingAccount.objects.get(pk=yearly_on_paddle.pk)
    assert account.cancel_at_period_end
    assert not AuditEvent.objects.filter(action="subscription.resumed").exists()


def test_paddle_refusing_the_downgrade_schedules_nothing(auth_client, paddle, yearly_on_paddle):
    paddle.fail_next = True
    response = downgrade(auth_client)
    assert response.status_code == 502
    assert response.json()["code"] == "provider_error"
    account = BillingAccount.objects.get(pk=yearly_on_paddle.pk)
    assert (account.plan.code, account.scheduled_plan) == ("yearly", None)
    assert not AuditEvent.objects.filter(action="subscription.downgrade_scheduled").exists()


def test_paddle_confirming_the_downgrade_keeps_the_paid_plan_until_the_period_turns(
    api_client, auth_client, paddle, yearly_on_paddle
):
    downgrade(auth_client)
    account = BillingAccount.objects.get(pk=yearly_on_paddle.pk)
    start, end = account.current_period_start, account.current_period_end
    updated = at("subscription.updated", subscription_now(paddle, start, end), datetime.now(UTC))
    assert post_paddle(api_client, updated, paddle.webhook_secret).json()["outcome"] == "processed"

    account.refresh_from_db()
    assert (account.plan.code, account.scheduled_plan.code) == ("yearly", "monthly")
    assert account.current_period_end == end


def test_renewal_at_period_end_applies_the_scheduled_plan(api_client, auth_client, paddle, yearly_on_paddle):
    downgrade(auth_client)
    account = BillingAccount.objects.get(pk=yearly_on_paddle.pk)
    end = account.current_period_end
    renewal = paddle.transaction("pri_monthly_USD", custom_data=None)
    paddle.transactions[renewal["id"]] = renewal
    data = completed(
        paddle,
        renewal["id"],
        billing_period={"starts_at": paddle_time(end), "ends_at": paddle_time(end + timedelta(days=31))},
    )
    renewed_at = datetime.now(UTC)
    response = post_paddle(api_client, at("transaction.completed", data, renewed_at), paddle.webhook_secret)
    assert response.json()["outcome"] == "processed"

    account.refresh_from_db()
    assert (account.plan.code, account.scheduled_plan) == ("monthly", None)
    assert account.current_period_start == end
    assert AuditEvent.objects.filter(action="subscription.downgraded", organization=account.organization).exists()

    later = subscription_now(paddle, end, end + timedelta(days=31))
    later_at = renewed_at + timedelta(seconds=1)
    response = post_paddle(api_client, at("subscription.updated", later, later_at), paddle.webhook_secret)
    assert response.json()["outcome"] == "processed"
    account.refresh_from_db()
    assert (account.plan.code, account.scheduled_plan) == ("monthly", None)


def test_subscription_updated_for_the_new_period_applies_the_scheduled_plan(
    api_client, auth_client, paddle, yearly_on_paddle
):
    downgrade(auth_client)
    account = BillingAccount.objects.get(pk=yearly_on_paddle.pk)
    end = account.current_period_end
    data = subscription_now(paddle, end, end + timedelta(days=31))
    post_paddle(api_client, at("subscription.updated", data, datetime.now(UTC)), paddle.webhook_secret)

    account.refresh_from_db()
    assert (account.plan.code, account.scheduled_plan) == ("monthly", None)
    assert account.current_period_start == end


def test_a_stale_subscription_event_changes_nothing(api_client, paddle, monthly):
    account = paddle_account(plan=monthly)
    paddle.add_subscription("sub_01", price_id="pri_monthly_USD")
    now = datetime.now(UTC).replace(microsecond=0)
    newer = subscription_now(paddle, now, now + timedelta(days=31))
    response = post_paddle(api_client, at("subscription.updated", newer, now), paddle.webhook_secret)
    assert response.json()["outcome"] == "processed"
    account.refresh_from_db()
    state = (account.status, account.current_period_start, account.current_period_end)
    audit_rows = AuditEvent.objects.count()

    older = subscription_now(paddle, now - timedelta(days=31), now)
    older["status"] = "past_due"
    late = at("subscription.updated", older, now - timedelta(minutes=5))
    response = post_paddle(api_client, late, paddle.webhook_secret)
    assert response.json()["outcome"] == "ignored"

    account.refresh_from_db()
    assert (account.status, account.current_period_start, account.current_period_end) == state
    assert account.provider_event_at == now
    assert AuditEvent.objects.count() == audit_rows
    assert WebhookEvent.objects.get(event_id=late["event_id"]).outcome == WebhookOutcome.IGNORED


def test_secrets_written_with_a_space_after_the_comma_both_verify(api_client, auth_client, paddle, settings):
    """Issue 11 #17: `PADDLE_WEBHOOK_SECRET="old, new"` is read by django-environ as ["old", " new"]."""
    settings.PADDLE_WEBHOOK_SECRET = environ.Env.parse_value(f"{paddle.webhook_secret}, pdl_ntfset_new_secret", list)
    payment = Payment.objects.get(pk=start_checkout(auth_client)["payment_id"])
    payload = notification("transaction.completed", completed(paddle, payment.external_id))

    assert post_paddle(api_client, payload, paddle.webhook_secret).status_code == 200
    assert post_paddle(api_client, notification("x.y", {}), "pdl_ntfset_new_secret").status_code == 200
