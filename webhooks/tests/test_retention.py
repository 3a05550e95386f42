"""Ended deliveries are forgotten after WEBHOOKS_DELIVERY_RETENTION_DAYS (a daily task); pending ones stay."""

from datetime import timedelta

from django.utils import timezone

from webhooks import tasks
from webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from webhooks.services import prune_deliveries


def _delivery(endpoint_id: int, status: str, age_days: float) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.create(
        endpoint_id=endpoint_id,
        event_id=f"evt_{status}_{age_days}",
        event_type="payment.succeeded",
        body={},
        status=status,
    )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(created_at=timezone.now() - timedelta(days=age_days))
    WebhookAttempt.objects.create(delivery=delivery, attempted_at=timezone.now(), succeeded=status == "succeeded")
    return delivery


def test_ended_deliveries_past_the_retention_go_with_their_attempts_and_the_rest_stay(org, endpoint_for, settings):
    settings.WEBHOOKS_DELIVERY_RETENTION_DAYS = 30
    endpoint_id, _ = endpoint_for()
    old_ok = _delivery(endpoint_id, DeliveryStatus.SUCCEEDED, 31)
    old_failed = _delivery(endpoint_id, DeliveryStatus.FAILED, 45)
    old_pending = _delivery(endpoint_id, DeliveryStatus.PENDING, 60)
    recent = _delivery(endpoint_id, DeliveryStatus.SUCCEEDED, 29)

    assert tasks.prune_deliveries() == 2

    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == {old_pending.pk, recent.pk}
    assert not WebhookAttempt.objects.filter(delivery_id__in=[old_ok.pk, old_failed.pk]).exists()
    assert WebhookAttempt.objects.filter(delivery_id__in=[old_pending.pk, recent.pk]).count() == 2
    assert tasks.prune_deliveries() == 0  # run again: nothing more


def test_a_backlog_larger_than_one_batch_is_pruned_in_one_run(org, endpoint_for):
    endpoint_id, _ = endpoint_for()
    for _ in range(5):
        _delivery(endpoint_id, DeliveryStatus.SUCCEEDED, 400)

    assert prune_deliveries(batch=2) == 5
    assert not WebhookDelivery.objects.exists()


def test_the_pruning_runs_daily(settings):
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "webhooks.prune_deliveries")
    assert entry["schedule"] == 86400.0
