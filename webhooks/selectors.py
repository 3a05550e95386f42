"""Reads of outgoing webhooks, always inside the caller's organization: another organization's id is a 404."""

from django.db.models import Prefetch, QuerySet

from botgeneric.errors import ApiErrorCode, DomainError
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

#: The attempts a delivery's listing shows, the newest first (a delivery makes about a dozen in 24 hours).
LISTED_ATTEMPTS = 20


class NotFound(DomainError):
    code = ApiErrorCode.NOT_FOUND
    http_status = 404


def endpoints_for(*, organization_id: int | None) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(organization_id=organization_id).order_by("-created_at", "-id")


def access_endpoint(*, user, endpoint_id) -> WebhookEndpoint:
    endpoint = (
        endpoints_for(organization_id=user.organization_id)
        .select_related("organization")
        .filter(pk=endpoint_id)
        .first()
    )
    if endpoint is None or user.organization_id is None:
        raise NotFound(detail="Webhook endpoint not found.")
    return endpoint


def deliveries_for(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """The endpoint's deliveries, newest first, each with its latest attempts (`recent_attempts`)."""
    attempts = WebhookAttempt.objects.order_by("-attempted_at", "-id")
    return (
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .prefetch_related(Prefetch("attempt_log", queryset=attempts[:LISTED_ATTEMPTS], to_attr="recent_attempts"))
        .order_by("-created_at", "-id")
    )


def access_delivery(*, endpoint: WebhookEndpoint, delivery_id) -> WebhookDelivery:
    delivery = (
        WebhookDelivery.objects.select_related("endpoint__organization")
        .filter(endpoint=endpoint, pk=delivery_id)
        .first()
    )
    if delivery is None:
        raise NotFound(detail="Delivery not found.")
    return delivery
