"""Provider webhooks: verify, store the raw event once, then process it in a task.

The view verifies and stores the event and queues `billing.process_webhook_event` (with no broker it
runs inline before the view answers). The (provider, event id) unique constraint makes a replay or a
concurrent duplicate a no-op: every processing takes the stored event's row lock, and only the first
finds it unprocessed. Reading the event (for YooKassa: re-fetching the payment from its API) happens
before that transaction, so no row is locked while the provider is asked. A failure rolls the
processing back and leaves the event `failed` with its next attempt time (exponential backoff); the
`billing.retry_webhooks` task tries it again then, the provider's next delivery at once, and after
WEBHOOK_MAX_ATTEMPTS it is `dead` (the admin's retry still processes it).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from background.queue import enqueue
from billing.errors import BillingErrorCode
from billing.models import WebhookEvent, WebhookOutcome
from billing.providers import BACKENDS, get_backend
from billing.providers.base import EventRefused, PaymentNotFound, VerifiedEvent, WebhookRejected
from billing.services.accounts import billing_transaction
from billing.services.provider_events import apply_provider_report
from botgeneric import metrics
from tenants.services import record_audit

logger = logging.getLogger(__name__)

FINAL_OUTCOMES = (WebhookOutcome.PROCESSED, WebhookOutcome.REFUSED)
#: How long an `ignored` event whose payment was not confirmed yet is worth asking about again.
IGNORED_RETRY_WINDOW = timedelta(days=1)
#: An event still `received` this long after it arrived lost its task (a broker outage, a worker crash).
LOST_AFTER = timedelta(minutes=2)
MAX_RETRY_DELAY = timedelta(hours=6)


def receive_webhook(*, provider: str, request) -> WebhookEvent:
    """Verify the request came from `provider`, store it, and process it unless it already was."""
    backend = get_backend(provider)
    try:
        if backend is None or not backend.is_configured():
            raise WebhookRejected(BillingErrorCode.PROVIDER_DISABLED, f"{provider} is not enabled here.", 404)
        verified = backend.verify_webhook(request)
    except WebhookRejected:
        metrics.WEBHOOK_EVENTS.labels(provider, "rejected").inc()
        raise
    event = _store(provider, verified)
    if event.outcome not in FINAL_OUTCOMES:
        # The event row is committed (the view runs in no transaction): a worker can read it.
        from billing.tasks import process_webhook_event as process_task  # the tasks module imports this one

        enqueue(process_task, event_pk=event.pk)
        event.refresh_from_db()
    return event


def _store(provider: str, verified: VerifiedEvent) -> WebhookEvent:
    try:
        with transaction.atomic():
            return WebhookEvent.objects.create(
                provider=provider,
                event_id=verified.event_id[:200],
                event_type=verified.event_type[:80],
                payload=verified.payload,
            )
    except IntegrityError:
        return WebhookEvent.objects.get(provider=provider, event_id=verified.event_id[:200])


def process_webhook_event(*, event_pk: int) -> WebhookEvent:
    """Apply a stored event once. Safe to call again: a processed or refused event is left alone."""
    event = WebhookEvent.objects.get(pk=event_pk)
    if event.outcome in FINAL_OUTCOMES:
        return event
    report, failure = None, None
    try:
        report = get_backend(event.provider).read_event(event)
    except Exception as exc:  # noqa: BLE001 — applied below, in the transaction that records the outcome
        failure = exc
    with billing_transaction():
        event = WebhookEvent.objects.select_for_update().get(pk=event_pk)
        if event.outcome in FINAL_OUTCOMES:
            return event
        event.attempts += 1
        event.error = ""
        try:
            with transaction.atomic():
                if isinstance(failure, PaymentNotFound):
                    raise EventRefused(None, str(failure.detail))
                if failure is not None:
                    raise failure
                event.outcome = apply_provider_report(report, actor_label=f"webhook:{event.provider}:{event.event_id}")
        except EventRefused as refusal:
            _flag_refused(event, refusal)
        except Exception as exc:  # noqa: BLE001 — any failure must leave the event failed and retryable
            logger.error("webhook %s:%s failed", event.provider, event.event_id, exc_info=exc)
            event.outcome = WebhookOutcome.FAILED
            event.error = f"{type(exc).__name__}: {getattr(exc, 'detail', exc)}"[:2000]
        event.next_attempt_at = None
        if event.outcome == WebhookOutcome.FAILED:
            _schedule_retry(event)
        else:
            event.processed_at = timezone.now()
        event.save(update_fields=["outcome", "error", "attempts", "processed_at", "next_attempt_at"])
    metrics.WEBHOOK_EVENTS.labels(event.provider, event.outcome).inc()
    return event


def _schedule_retry(event: WebhookEvent) -> None:
    """WEBHOOK_RETRY_BASE_SECONDS × 2ⁿ⁻¹ after the n-th failed attempt; dead after WEBHOOK_MAX_ATTEMPTS."""
    if event.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        logger.error("webhook %s:%s gave up after %s attempts", event.provider, event.event_id, event.attempts)
        event.outcome = WebhookOutcome.DEAD
        return
    delay = timedelta(seconds=settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** (event.attempts - 1))
    event.next_attempt_at = timezone.now() + min(delay, MAX_RETRY_DELAY)


def _flag_refused(event: WebhookEvent, refusal: EventRefused) -> None:
    logger.warning("webhook %s:%s refused: %s", event.provider, event.event_id, refusal.detail)
    event.outcome = WebhookOutcome.REFUSED
    event.error = str(refusal.detail)[:2000]
    account = refusal.account
    record_audit(
        action="webhook.refused",
        target=event,
        organization=account.organization if account else None,
        actor_label=f"webhook:{event.provider}:{event.event_id}",
        after={"event_type": event.event_type, "reason": event.error},
    )


def retry_failed_webhooks() -> list[WebhookEvent]:
    """Process again now, oldest first, every event left failed or never finished, and the recent
    `ignored` ones whose provider may confirm them later (a YooKassa payment still pending).
    Dead events are left to the admin's retry. `manage.py billing_retry_webhooks` runs this."""
    retry = Q(outcome__in=[WebhookOutcome.FAILED, WebhookOutcome.RECEIVED]) | _recent_ignored()
    pending = WebhookEvent.objects.filter(retry).order_by("received_at", "pk")
    return [process_webhook_event(event_pk=pk) for pk in pending.values_list("pk", flat=True)]


def due_webhook_events(*, now=None) -> list[int]:
    """Events the periodic retry should process now: failed ones whose next attempt is due, received
    ones whose task was lost, and recent `ignored` ones whose provider may confirm them later."""
    now = now or timezone.now()
    due = (
        Q(outcome=WebhookOutcome.FAILED, next_attempt_at__lte=now)
        | Q(outcome=WebhookOutcome.FAILED, next_attempt_at__isnull=True)
        | Q(outcome=WebhookOutcome.RECEIVED, received_at__lte=now - LOST_AFTER)
        | _recent_ignored(now)
    )
    return list(WebhookEvent.objects.filter(due).order_by("received_at", "pk").values_list("pk", flat=True))


def _recent_ignored(now=None) -> Q:
    recent = Q(outcome=WebhookOutcome.IGNORED, received_at__gte=(now or timezone.now()) - IGNORED_RETRY_WINDOW)
    retry = Q(pk__in=[])
    for name, backend in BACKENDS.items():
        for prefix in backend().retryable_ignored_types():
            retry |= recent & Q(provider=name, event_type__startswith=prefix)
    return retry
