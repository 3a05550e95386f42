"""Writes of outgoing webhooks: endpoints (owners and admins), events and their deliveries.

`emit(organization=, event_type=, payload=)` is what other apps call inside the transaction of the change
they announce: once it commits, one delivery per active endpoint subscribed to the event is written and
queued. A delivery is sent by the `webhooks.send_delivery` task outside any transaction (the outbox way):
the row is claimed with a conditional UPDATE, the POST made with a timeout, and the answer recorded in a
second short transaction. A failure is tried again WEBHOOKS_RETRY_BASE_SECONDS × 2ⁿ⁻¹ later (the
`webhooks.retry_deliveries` task finds it), the last time WEBHOOKS_RETRY_HOURS after the event; then the
delivery is `failed`.
"""

import logging
import secrets
from datetime import datetime, timedelta
from functools import partial

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from agents.provider_keys import field_encryption
from background.queue import enqueue, enqueue_on_commit
from botgeneric.errors import ApiErrorCode, DomainError
from tenants.errors import TenantErrorCode
from tenants.models import Organization
from tenants.services import record_audit
from webhooks import signing
from webhooks.addresses import AddressRefused, check_registration
from webhooks.models import DeliveryStatus, EventOnce, EventType, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.sending import PostResult, post

logger = logging.getLogger(__name__)

_SECRET_PURPOSE = b"bot-generic webhook signing secret v1"
#: A claimed delivery is not claimed again this long after its POST started (the POST's timeout plus a margin).
CLAIM_MARGIN = timedelta(seconds=60)
MAX_RETRY_DELAY = timedelta(hours=4)
MAX_ENDPOINTS = 20


def _invalid(field: str, reason: str) -> DomainError:
    return DomainError(ApiErrorCode.INVALID, reason, 400, {"fields": {field: [reason]}})


def _require_manager(actor, organization_id: int) -> None:
    """Owners and admins of the organization manage its webhooks; operators (staff) from the console."""
    if getattr(actor, "is_staff", False):
        return
    if getattr(actor, "organization_id", None) != organization_id or not actor.can_manage_organization:
        raise DomainError(
            TenantErrorCode.FORBIDDEN_ROLE, "Only the organization's owner or an admin can manage webhooks.", 403
        )


def _checked_url(url: str) -> str:
    url = (url or "").strip()
    if len(url) > 2000:
        raise _invalid("url", "At most 2000 characters.")
    try:
        check_registration(url)
    except AddressRefused as refusal:
        raise _invalid("url", str(refusal)) from None
    return url


def _checked_events(events) -> list[str]:
    if not isinstance(events, list | tuple) or not events:
        raise _invalid("events", f"Choose at least one of {', '.join(EventType.values)}.")
    unknown = [event for event in events if event not in EventType.values]
    if unknown:
        raise _invalid("events", f"Unknown event {unknown[0]!r}; choose from {', '.join(EventType.values)}.")
    return [event for event in EventType.values if event in events]


def _encrypt(secret: str) -> str:
    return field_encryption(_SECRET_PURPOSE).encrypt(secret.encode()).decode()


def endpoint_secret(endpoint: WebhookEndpoint) -> str:
    """The signing secret in clear, to sign a delivery; "" when no configured key decrypts it (logged)."""
    try:
        return field_encryption(_SECRET_PURPOSE).decrypt(endpoint.secret_encrypted.encode()).decode()
    except InvalidToken:
        logger.error("webhook endpoint %s has a secret no configured key decrypts", endpoint.pk)
        return ""


def _audit_state(endpoint: WebhookEndpoint) -> dict:
    return {
        "url": endpoint.url,
        "events": endpoint.events,
        "description": endpoint.description,
        "is_active": endpoint.is_active,
    }


def create_endpoint(
    *, actor, organization: Organization, url: str, events: list[str], description: str = "", is_active: bool = True
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint: (the endpoint, its signing secret), the secret shown this once and never again."""
    _require_manager(actor, organization.pk)
    url = _checked_url(url)
    events = _checked_events(events)
    if WebhookEndpoint.objects.filter(organization=organization).count() >= MAX_ENDPOINTS:
        raise _invalid("url", f"At most {MAX_ENDPOINTS} endpoints per organization.")
    secret = signing.new_secret()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            organization=organization,
            url=url,
            events=events,
            description=(description or "").strip()[:200],
            is_active=is_active,
            secret_encrypted=_encrypt(secret),
            created_by=actor if getattr(actor, "organization_id", None) == organization.pk else None,
        )
        record_audit(
            action="webhook_endpoint.created",
            target=endpoint,
            organization=organization,
            actor=actor,
            after=_audit_state(endpoint),
        )
    logger.info("webhook endpoint %s created org=%s", endpoint.pk, organization.pk)
    return endpoint, secret


def update_endpoint(
    *,
    endpoint: WebhookEndpoint,
    actor,
    url: str | None = None,
    events: list[str] | None = None,
    description: str | None = None,
    is_active: bool | None = None,
) -> WebhookEndpoint:
    _require_manager(actor, endpoint.organization_id)
    before = _audit_state(endpoint)
    if url is not None:
        endpoint.url = _checked_url(url)
    if events is not None:
        endpoint.events = _checked_events(events)
    if description is not None:
        endpoint.description = description.strip()[:200]
    if is_active is not None:
        endpoint.is_active = is_active
    after = _audit_state(endpoint)
    if after == before:
        return endpoint
    with transaction.atomic():
        endpoint.save(update_fields=["url", "events", "description", "is_active", "updated_at"])
        changed = [name for name in after if after[name] != before[name]]
        record_audit(
            action="webhook_endpoint.changed",
            target=endpoint,
            organization=endpoint.organization,
            actor=actor,
            before={name: before[name] for name in changed},
            after={name: after[name] for name in changed},
        )
    return endpoint


def rotate_secret(*, endpoint: WebhookEndpoint, actor) -> str:
    """A new signing secret at once (the old one stops signing); returned this once."""
    _require_manager(actor, endpoint.organization_id)
    secret = signing.new_secret()
    with transaction.atomic():
        endpoint.secret_encrypted = _encrypt(secret)
        endpoint.save(update_fields=["secret_encrypted", "updated_at"])
        record_audit(
            action="webhook_endpoint.secret_rotated", target=endpoint, organization=endpoint.organization, actor=actor
        )
    return secret


def delete_endpoint(*, endpoint: WebhookEndpoint, actor) -> None:
    """Delete the endpoint and its delivery log; nothing more is sent to it."""
    _require_manager(actor, endpoint.organization_id)
    with transaction.atomic():
        record_audit(
            action="webhook_endpoint.deleted",
            target=endpoint,
            organization=endpoint.organization,
            actor=actor,
            before=_audit_state(endpoint),
        )
        endpoint.delete()


def emit(*, organization: Organization | int, event_type: str, payload: dict, once_key: str = "") -> None:
    """Announce `event_type` to the organization's endpoints once the caller's transaction commits (at
    once outside one): a rolled-back change announces nothing. `payload` (JSON values) is the event's
    `data`. With `once_key`, only the first event of that key is ever sent (a threshold reported by every
    refused call). A failure here is logged and never undoes the caller's committed change."""
    if event_type not in EventType.values:
        raise ValueError(f"{event_type!r} is not a webhook event type")
    organization_id = organization if isinstance(organization, int) else organization.pk
    record = partial(
        _record_event,
        organization_id=organization_id,
        event_type=event_type,
        payload=payload,
        at=timezone.now(),
        once_key=once_key,
    )
    transaction.on_commit(record, robust=True)


def _record_event(
    *, organization_id: int, event_type: str, payload: dict, at: datetime, once_key: str
) -> list[WebhookDelivery]:
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(organization_id=organization_id, is_active=True)
        if event_type in endpoint.events
    ]
    if not endpoints:
        return []
    event_id = "evt_" + secrets.token_hex(12)
    body = {
        "id": event_id,
        "type": event_type,
        "created": int(at.timestamp()),
        "organization": organization_id,
        "data": payload,
    }
    with transaction.atomic():
        if once_key and not EventOnce.objects.get_or_create(organization_id=organization_id, key=once_key[:200])[1]:
            return []
        deliveries = WebhookDelivery.objects.bulk_create(
            WebhookDelivery(endpoint=endpoint, event_id=event_id, event_type=event_type, body=body, next_attempt_at=at)
            for endpoint in endpoints
        )
        _queue(deliveries)
    logger.info("webhook event %s %s org=%s: %s deliveries", event_id, event_type, organization_id, len(deliveries))
    return deliveries


def _queue(deliveries: list[WebhookDelivery]) -> None:
    from webhooks.tasks import send_delivery  # the tasks module imports this one

    for delivery in deliveries:
        enqueue_on_commit(send_delivery, delivery_pk=delivery.pk)


def resend(*, delivery: WebhookDelivery, actor) -> WebhookDelivery:
    """Send the delivery's event again as a new delivery (same event id, so a receiver that processed it
    can tell), with its own round of retries."""
    endpoint = delivery.endpoint
    _require_manager(actor, endpoint.organization_id)
    if not endpoint.is_active:
        raise _invalid("endpoint", "The endpoint is disabled; enable it first.")
    with transaction.atomic():
        again = WebhookDelivery.objects.create(
            endpoint=endpoint,
            event_id=delivery.event_id,
            event_type=delivery.event_type,
            body=delivery.body,
            next_attempt_at=timezone.now(),
        )
        record_audit(
            action="webhook_delivery.resent",
            target=again,
            organization=endpoint.organization,
            actor=actor,
            after={"event_id": delivery.event_id, "resent_from": delivery.pk},
        )
        _queue([again])
    return again


def send_delivery(*, delivery_pk: int) -> WebhookDelivery | None:
    """Make the delivery's next attempt if it is due; None when it is not (sent, failed, not yet due,
    claimed by another worker, or its endpoint deleted meanwhile). Safe to run twice: the claim is a
    conditional UPDATE."""
    now = timezone.now()
    claim_until = now + timedelta(seconds=settings.WEBHOOKS_TIMEOUT_SECONDS) + CLAIM_MARGIN
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_pk, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=claim_until)
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_pk).first()
    if delivery is None:
        return None
    result = _attempt(delivery, now)
    return _record_attempt(delivery_pk=delivery_pk, result=result, at=now)


def _attempt(delivery: WebhookDelivery, now: datetime) -> PostResult:
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        return PostResult(False, None, "", "The endpoint is disabled.", 0)
    secret = endpoint_secret(endpoint)
    if not secret:
        return PostResult(False, None, "", "The endpoint's secret cannot be read; rotate it.", 0)
    body = signing.encode_body(delivery.body)
    headers = {
        signing.SIGNATURE_HEADER: signing.signature(secret=secret, timestamp=int(now.timestamp()), body=body),
        signing.EVENT_ID_HEADER: delivery.event_id,
        signing.EVENT_TYPE_HEADER: delivery.event_type,
    }
    return post(url=endpoint.url, body=body, headers=headers)


def _record_attempt(*, delivery_pk: int, result: PostResult, at: datetime) -> WebhookDelivery | None:
    finished = timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_pk).first()
        if delivery is None:
            logger.info("webhook delivery %s: its endpoint was deleted during the attempt", delivery_pk)
            return None
        WebhookAttempt.objects.create(
            delivery=delivery,
            attempted_at=at,
            succeeded=result.succeeded,
            status_code=result.status_code,
            error=result.error,
            response_excerpt=result.excerpt,
            duration_ms=result.duration_ms,
        )
        delivery.attempts += 1
        delivery.last_status_code = result.status_code
        deadline = delivery.created_at + timedelta(hours=settings.WEBHOOKS_RETRY_HOURS)
        if result.succeeded:
            delivery.status, delivery.completed_at, delivery.next_attempt_at = DeliveryStatus.SUCCEEDED, finished, None
        elif finished >= deadline:
            delivery.status, delivery.completed_at, delivery.next_attempt_at = DeliveryStatus.FAILED, finished, None
        else:
            delay = timedelta(seconds=settings.WEBHOOKS_RETRY_BASE_SECONDS * 2 ** (delivery.attempts - 1))
            delivery.next_attempt_at = min(finished + min(delay, MAX_RETRY_DELAY), deadline)
        delivery.save(update_fields=["status", "attempts", "last_status_code", "next_attempt_at", "completed_at"])
    level = logging.INFO if result.succeeded else logging.WARNING
    logger.log(
        level,
        "webhook delivery %s attempt %s: %s",
        delivery_pk,
        delivery.attempts,
        result.status_code or result.error,
    )
    return delivery


def queue_due_deliveries() -> int:
    """Queue every pending delivery whose next attempt is due (a retry, or one whose task was lost)."""
    from webhooks.tasks import send_delivery

    due = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now())
    pks = list(due.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:1000])
    for delivery_pk in pks:
        enqueue(send_delivery, delivery_pk=delivery_pk)
    return len(pks)


def prune_deliveries(*, now: datetime | None = None, batch: int = 1000) -> int:
    """Delete the deliveries that ended (succeeded or failed) more than WEBHOOKS_DELIVERY_RETENTION_DAYS ago,
    with their attempts; pending ones stay whatever their age. In batches, so a long backlog never holds
    its locks for long. Returns how many were deleted."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.WEBHOOKS_DELIVERY_RETENTION_DAYS)
    ended = WebhookDelivery.objects.filter(
        status__in=(DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED), created_at__lt=cutoff
    )
    deleted = 0
    while pks := list(ended.order_by("pk").values_list("pk", flat=True)[:batch]):
        WebhookDelivery.objects.filter(pk__in=pks).delete()
        deleted += len(pks)
    if deleted:
        logger.info("pruned %d webhook deliveries older than %s", deleted, cutoff.date())
    return deleted
