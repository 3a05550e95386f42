"""Deliveries: signed so a receiver can verify them, sent after commit, retried with backoff for 24 hours,
every attempt logged."""

import json
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from webhooks import tasks
from webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from webhooks.services import emit, send_delivery
from webhooks.tests.conftest import verify

pytestmark = pytest.mark.django_db


def _emit(committed, org, event_type="payment.succeeded", **payload):
    with committed():
        emit(organization=org.organization, event_type=event_type, payload=payload)


def _time_passes(delivery: WebhookDelivery, *, by: timedelta) -> None:
    """Move the delivery's clock back by `by`, as if that much time had passed since it was written."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        created_at=delivery.created_at - by, next_attempt_at=delivery.next_attempt_at - by
    )


def test_a_receiver_verifies_the_signature_with_its_secret(org, endpoint_for, receiver, committed):
    _endpoint_id, secret = endpoint_for()

    _emit(committed, org, amount="19.99")

    [request] = receiver.received
    parts = verify(request, secret)
    assert abs(int(parts["t"]) - time.time()) < 60
    body = json.loads(request.body)
    delivery = WebhookDelivery.objects.get()
    assert body == {
        "id": delivery.event_id,
        "type": "payment.succeeded",
        "created": body["created"],
        "organization": org.organization.pk,
        "data": {"amount": "19.99"},
    }
    assert request.headers["BotGeneric-Event-Id"] == delivery.event_id and delivery.event_id.startswith("evt_")
    assert request.headers["BotGeneric-Event-Type"] == "payment.succeeded"
    assert request.headers["Content-Type"] == "application/json"
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 1


def test_a_tampered_body_or_another_secret_does_not_verify(org, endpoint_for, receiver, committed):
    _endpoint_id, secret = endpoint_for()
    _emit(committed, org, amount="19.99")
    [request] = receiver.received

    request.body = request.body.replace(b"19.99", b"0.01")
    with pytest.raises(AssertionError):
        verify(request, secret)
    with pytest.raises(AssertionError):
        verify(receiver.received[0], secret + "x")


def test_after_rotation_deliveries_are_signed_with_the_new_secret(org, endpoint_for, receiver, committed):
    endpoint_id, old_secret = endpoint_for()
    new_secret = org.api.post(f"/api/v1/webhook-endpoints/{endpoint_id}/rotate-secret").json()["secret"]

    _emit(committed, org)

    verify(receiver.received[0], new_secret)
    with pytest.raises(AssertionError):
        verify(receiver.received[0], old_secret)


def test_a_rolled_back_change_sends_nothing(org, endpoint_for, receiver, committed):
    endpoint_for()

    with committed(), pytest.raises(RuntimeError), transaction.atomic():
        emit(organization=org.organization, event_type="payment.succeeded", payload={})
        raise RuntimeError("the change failed")

    assert not WebhookDelivery.objects.exists()
    assert receiver.received == []


def test_only_active_endpoints_subscribed_to_the_event_get_it(org, endpoint_for, receiver, committed):
    subscribed, _ = endpoint_for(events=["lead.created"])
    endpoint_for(events=["member.joined"])
    paused, _ = endpoint_for(events=["lead.created"])
    org.api.patch(f"/api/v1/webhook-endpoints/{paused}", {"is_active": False}, format="json")
    stranger_org = org.stranger.organization

    _emit(committed, org, event_type="lead.created", name="Ann")
    with committed():
        emit(organization=stranger_org, event_type="lead.created", payload={})

    assert list(WebhookDelivery.objects.values_list("endpoint_id", flat=True)) == [subscribed]
    assert len(receiver.received) == 1


def test_failures_are_retried_with_doubling_delays_until_the_receiver_answers(
    org, endpoint_for, receiver, committed, settings
):
    settings.WEBHOOKS_RETRY_BASE_SECONDS = 60
    endpoint_for()
    receiver.answers = [500, 503]
    receiver.answer_body = b"upstream down"

    _emit(committed, org)
    delivery = WebhookDelivery.objects.get()
    first_delay = delivery.next_attempt_at - timezone.now()
    with committed():
        tasks.retry_deliveries.delay()  # nothing is due yet
    assert len(receiver.received) == 1
    _time_passes(delivery, by=timedelta(seconds=61))
    with committed():
        tasks.retry_deliveries.delay()
    delivery.refresh_from_db()
    second_delay = delivery.next_attempt_at - timezone.now()
    _time_passes(delivery, by=timedelta(seconds=121))
    with committed():
        tasks.retry_deliveries.delay()

    delivery.refresh_from_db()
    assert timedelta(seconds=55) < first_delay <= timedelta(seconds=60)
    assert timedelta(seconds=115) < second_delay <= timedelta(seconds=120)
    assert len(receiver.received) == 3
    assert len({request.headers["BotGeneric-Event-Id"] for request in receiver.received}) == 1
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 3
    assert delivery.last_status_code == 200 and delivery.next_attempt_at is None
    log = list(WebhookAttempt.objects.filter(delivery=delivery).order_by("attempted_at"))
    assert [attempt.status_code for attempt in log] == [500, 503, 200]
    assert [attempt.succeeded for attempt in log] == [False, False, True]
    assert log[0].response_excerpt == "upstream down"
    assert all(attempt.duration_ms < 5000 for attempt in log)


def test_the_last_attempt_is_24_hours_after_the_event_then_the_delivery_failed(
    org, endpoint_for, receiver, committed, settings
):
    endpoint_for()
    receiver.default_status = 500
    _emit(committed, org)
    delivery = WebhookDelivery.objects.get()
    _time_passes(delivery, by=timedelta(hours=23, minutes=59, seconds=30))

    with committed():
        tasks.retry_deliveries.delay()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.next_attempt_at == delivery.created_at + timedelta(hours=settings.WEBHOOKS_RETRY_HOURS)
    _time_passes(delivery, by=timedelta(seconds=31))
    with committed():
        tasks.retry_deliveries.delay()
    with committed():
        tasks.retry_deliveries.delay()  # nothing more is due, ever

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.completed_at is not None and delivery.next_attempt_at is None
    assert delivery.attempts == 3 and len(receiver.received) == 3


def test_sending_a_finished_delivery_again_posts_nothing(org, endpoint_for, receiver, committed):
    endpoint_for()
    _emit(committed, org)
    delivery = WebhookDelivery.objects.get()

    assert send_delivery(delivery_pk=delivery.pk) is None
    assert len(receiver.received) == 1
    assert WebhookAttempt.objects.count() == 1


def test_redirects_are_not_followed(org, endpoint_for, receiver, committed):
    from testing.fakes.webhook_receiver import FakeReceiver

    elsewhere = FakeReceiver().start()
    try:
        endpoint_for()
        receiver.redirect_to = elsewhere.url

        _emit(committed, org)
    finally:
        elsewhere.stop()

    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code == 302 and not attempt.succeeded
    assert elsewhere.received == []
    assert WebhookDelivery.objects.get().status == DeliveryStatus.PENDING


def test_a_receiver_that_hangs_is_given_up_after_the_timeout(org, endpoint_for, receiver, committed, settings):
    settings.WEBHOOKS_TIMEOUT_SECONDS = 0.5
    endpoint_for()
    receiver.delay_seconds = 5

    started = time.monotonic()
    _emit(committed, org)

    assert time.monotonic() - started < 3
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None and "Timeout" in attempt.error
    assert 400 <= attempt.duration_ms < 3000


def test_resend_sends_the_same_event_again_as_a_new_delivery(org, endpoint_for, receiver, committed):
    endpoint_id, _ = endpoint_for()
    receiver.default_status = 500
    _emit(committed, org)
    first = WebhookDelivery.objects.get()
    receiver.default_status = 200

    with committed():
        response = org.api.post(f"/api/v1/webhook-endpoints/{endpoint_id}/deliveries/{first.pk}/resend")

    assert response.status_code == 202
    again = WebhookDelivery.objects.exclude(pk=first.pk).get()
    assert response.json()["id"] == again.pk
    assert again.event_id == first.event_id and again.body == first.body
    assert again.status == DeliveryStatus.SUCCEEDED
    assert [request.headers["BotGeneric-Event-Id"] for request in receiver.received] == [first.event_id] * 2
    assert receiver.received[0].body == receiver.received[1].body


def test_resend_to_a_disabled_endpoint_is_refused(org, endpoint_for, committed):
    endpoint_id, _ = endpoint_for()
    _emit(committed, org)
    delivery = WebhookDelivery.objects.get()
    org.api.patch(f"/api/v1/webhook-endpoints/{endpoint_id}", {"is_active": False}, format="json")

    response = org.api.post(f"/api/v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery.pk}/resend")

    assert response.status_code == 400
    assert "endpoint" in response.json()["fields"]
