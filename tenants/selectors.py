"""Reads for tenants, always scoped to the caller's organization."""

import hmac

from django.db.models import QuerySet
from django.utils import timezone

from botgeneric.errors import DomainError
from tenants.models import ApiKey, AuditEvent
from tenants.services import API_KEY_PREFIX, hash_api_key


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


def api_keys_for(*, organization) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(organization=organization).select_related("created_by")


def access_api_key(*, user, key_id) -> ApiKey:
    """The key if it belongs to the caller's organization; otherwise 404, never 403."""
    key = (
        ApiKey.objects.filter(pk=key_id, organization_id=user.organization_id).first() if user.organization_id else None
    )
    if key is None:
        raise NotFound(detail="API key not found.")
    return key


def api_key_from_secret(secret: str) -> ApiKey | None:
    """The active key matching `secret`, or None. One indexed query by prefix, then a hash compare."""
    if not secret.startswith(API_KEY_PREFIX) or secret.count("_") < 2:
        return None
    prefix = secret[len(API_KEY_PREFIX) :].split("_", 1)[0]
    key = (
        ApiKey.objects.select_related("organization", "created_by")
        .filter(prefix=prefix, revoked_at__isnull=True)
        .first()
    )
    if key is None:
        return None
    if not hmac.compare_digest(key.key_hash, hash_api_key(secret)):
        return None
    return key


def audit_events_for(*, organization) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(organization=organization).select_related("actor")


def touch_api_key(key: ApiKey) -> None:
    """Record use at most once a minute so the hot path does not write on every call."""
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
