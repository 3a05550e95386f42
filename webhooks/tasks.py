"""Outgoing webhooks' tasks: thin, idempotent, ids in. The schedule is CELERY_BEAT_SCHEDULE."""

from celery import shared_task

from background.task_base import BackgroundTask
from webhooks import services


@shared_task(base=BackgroundTask, name="webhooks.send_delivery")
def send_delivery(*, delivery_pk: int) -> str | None:
    """One attempt of a delivery that is due. Its failure is recorded on the delivery, whose next attempt
    `retry_deliveries` queues; an error outside that (the database) is retried by the task itself."""
    delivery = services.send_delivery(delivery_pk=delivery_pk)
    return delivery.status if delivery else None


@shared_task(base=BackgroundTask, name="webhooks.retry_deliveries", autoretry_for=(), dead_letters=False)
def retry_deliveries() -> int:
    """Every minute: queue the deliveries whose next attempt is due."""
    return services.queue_due_deliveries()


@shared_task(base=BackgroundTask, name="webhooks.prune_deliveries", autoretry_for=(), dead_letters=False)
def prune_deliveries() -> int:
    """Daily: forget deliveries that ended longer ago than the retention period."""
    return services.prune_deliveries()
