"""Billing's background tasks (Celery): thin, idempotent, ids in. The schedule is CELERY_BEAT_SCHEDULE."""

import logging

from celery import shared_task
from django.utils import timezone

from background.queue import enqueue
from background.task_base import BackgroundTask
from billing.services import webhooks
from billing.services.tick import reconcile_payment as reconcile
from billing.services.tick import run_billing_tick, stale_pending_payments

logger = logging.getLogger(__name__)


@shared_task(base=BackgroundTask, name="billing.process_webhook_event")
def process_webhook_event(*, event_pk: int) -> str:
    """Apply a stored provider event. A failure is kept on the event (failed, next attempt time), where
    `retry_webhooks` finds it; an error outside that (the database) is retried by the task itself."""
    return webhooks.process_webhook_event(event_pk=event_pk).outcome


@shared_task(base=BackgroundTask, name="billing.retry_webhooks", autoretry_for=(), dead_letters=False)
def retry_webhooks() -> int:
    """Every five minutes: queue the events whose retry is due (and those whose task was lost)."""
    due = webhooks.due_webhook_events()
    for event_pk in due:
        enqueue(process_webhook_event, event_pk=event_pk)
    return len(due)


@shared_task(base=BackgroundTask, name="billing.tick", autoretry_for=(), dead_letters=False)
def billing_tick() -> dict:
    """Every minute: close ended periods (renewals, cancellations, past_due, expiry)."""
    result = run_billing_tick(reconcile=False)
    logger.info("billing_tick processed %s accounts: %s", result.processed, result.actions)
    return result.actions


@shared_task(base=BackgroundTask, name="billing.reconcile_pending_payments", autoretry_for=(), dead_letters=False)
def reconcile_pending_payments() -> int:
    """Every five minutes: queue a reconciliation for each payment left pending at its provider."""
    stale = stale_pending_payments(timezone.now())
    for payment_pk in stale:
        enqueue(reconcile_payment, payment_pk=payment_pk)
    return len(stale)


@shared_task(base=BackgroundTask, name="billing.reconcile_payment")
def reconcile_payment(*, payment_pk: int) -> str:
    """Ask the provider what became of one pending payment and apply it. A provider that cannot be
    reached leaves it pending: the next `reconcile_pending_payments` asks again."""
    return reconcile(payment_pk=payment_pk)
