"""Provider webhooks: verify, store the raw event once, read it from the provider, apply it.

The (provider, event id) unique constraint makes a replay or a concurrent duplicate a no-op:
every delivery takes the stored event's row lock, and only the first finds it unprocessed.
Reading the event (for YooKassa: re-fetching the payment from its API) happens before that
transaction, so no row is locked while the provider is asked. A failure rolls the processing back
and leaves the event `failed`, to be retried by the provider's next delivery or
`manage.py billing_retry_webhooks`.
"""

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from billing.models import WebhookEvent, WebhookOutcome
from billing.providers import BACKENDS, get_backend
from billing.providers.base import EventRefused, PaymentNotFound, VerifiedEvent, WebhookRejected
from billing.services.accounts import billing_transaction
from billing.services.provider_events import apply_provider_report
from tenants.services import record_audit

logger = logging.getLogger(__name__)

FINAL_OUTCOMES = (WebhookOutcome.PROCESSED, WebhookOutcome.REFUSED)
#: How long an `ignored` event whose payment was not confirmed yet is worth asking about again.
IGNORED_RETRY_WINDOW = timedelta(days=1)


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
    """Process again, oldest first, every event left failed or never finished, and the recent
    `ignored` ones whose provider may confirm them later (a YooKassa payment still pending)."""
    retry = Q(outcome__in=[WebhookOutcome.FAILED, WebhookOutcome.RECEIVED])
    recent = Q(outcome=WebhookOutcome.IGNORED, received_at__gte=timezone.now() - IGNORED_RETRY_WINDOW)
    for name, backend in BACKENDS.items():
        for prefix in backend().retryable_ignored_types():
            retry |= recent & Q(provider=name, event_type__startswith=prefix)
    pending = WebhookEvent.objects.filter(retry).order_by("received_at", "pk")
    return [process_webhook_event(event_pk=pk) for pk in pending.values_list("pk", flat=True)]
