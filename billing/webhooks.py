"""Provider webhooks: verify, store the raw event once, process it atomically.

The (provider, event id) unique constraint makes a replay or a concurrent duplicate a no-op:
every delivery takes the stored event's row lock, and only the first finds it unprocessed.
A failure rolls the processing back and leaves the event `failed`, to be retried by the
provider's next delivery or `manage.py billing_retry_webhooks`.
"""

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.models import WebhookEvent, WebhookOutcome
from billing.providers import get_backend
from billing.providers.base import EventRefused, VerifiedEvent, WebhookRejected
from tenants.services import record_audit

logger = logging.getLogger(__name__)

FINAL_OUTCOMES = (WebhookOutcome.PROCESSED, WebhookOutcome.REFUSED)


def receive_webhook(*, provider: str, request) -> WebhookEvent:
    """Verify the request came from `provider`, store it, and process it unless it already was."""
    backend = get_backend(provider)
    if backend is None or not backend.is_configured():
        raise WebhookRejected("provider_disabled", f"{provider} is not enabled here.", 404)
    verified = backend.verify_webhook(request)
    event = _store(provider, verified)
    return process_webhook_event(event_pk=event.pk)


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
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().get(pk=event_pk)
        if event.outcome in FINAL_OUTCOMES:
            return event
        event.attempts += 1
        event.error = ""
        try:
            with transaction.atomic():
                event.outcome = get_backend(event.provider).process_event(event)
        except EventRefused as refusal:
            _flag_refused(event, refusal)
        except Exception as exc:  # noqa: BLE001 — any failure must leave the event failed and retryable
            logger.exception("webhook %s:%s failed", event.provider, event.event_id)
            event.outcome = WebhookOutcome.FAILED
            event.error = f"{type(exc).__name__}: {exc}"[:2000]
        if event.outcome != WebhookOutcome.FAILED:
            event.processed_at = timezone.now()
        event.save(update_fields=["outcome", "error", "attempts", "processed_at"])
    return event


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
    """Process again every event left failed (or never finished), oldest first."""
    pending = WebhookEvent.objects.filter(outcome__in=[WebhookOutcome.FAILED, WebhookOutcome.RECEIVED]).order_by(
        "received_at", "pk"
    )
    return [process_webhook_event(event_pk=pk) for pk in pending.values_list("pk", flat=True)]
