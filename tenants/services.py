"""Writes for tenants: organizations, the audit trail and API keys."""

import hashlib
import json
import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from botgeneric.errors import ApiErrorCode, DomainError
from tenants import api_key_cache
from tenants.errors import TenantErrorCode
from tenants.models import DEFAULT_API_KEY_SCOPES, ApiKey, ApiKeyScope, AuditEvent, Organization

API_KEY_PREFIX = "bg_"
API_KEY_TOUCH_INTERVAL = timedelta(minutes=1)


def record_audit(
    *,
    action: str,
    target: Any,
    organization: Organization | None = None,
    actor=None,
    actor_label: str = "",
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """Write one audit row; call it inside the transaction of the change it describes."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditEvent.objects.create(
        organization=organization,
        actor=actor,
        actor_label=actor_label or (str(actor) if actor else "system"),
        action=action,
        target_type=target._meta.label_lower if hasattr(target, "_meta") else str(type(target).__name__),
        target_id=str(getattr(target, "pk", target)),
        before=before or {},
        after=after or {},
    )


def audited_fields(instance: Any, fields: Iterable[str]) -> dict[str, Any]:
    """JSON-safe values of `fields` for an audit row (foreign keys as ids, decimals and dates as text)."""
    values = {name: instance.serializable_value(name) for name in fields}
    return json.loads(json.dumps(values, cls=DjangoJSONEncoder))


def save_audited(
    *, instance: Any, fields: list[str], action_prefix: str, actor, organization: Organization | None = None
) -> Any:
    """Save an operator's new or edited row and record `<prefix>.created` or `<prefix>.changed` with the
    fields that changed (none changed: no row). The caller's transaction, or one of its own."""
    with transaction.atomic():
        model = type(instance)
        stored = model.objects.select_for_update().filter(pk=instance.pk).first() if instance.pk else None
        before = audited_fields(stored, fields) if stored is not None else None
        instance.save()
        after = audited_fields(instance, fields)
        if before is None:
            record_audit(
                action=f"{action_prefix}.created", target=instance, organization=organization, actor=actor, after=after
            )
        elif changed := [name for name in fields if before[name] != after[name]]:
            record_audit(
                action=f"{action_prefix}.changed",
                target=instance,
                organization=organization,
                actor=actor,
                before={name: before[name] for name in changed},
                after={name: after[name] for name in changed},
            )
    return instance


def delete_audited(
    *, instance: Any, fields: list[str], action_prefix: str, actor, organization: Organization | None = None
) -> None:
    """Delete an operator's row and record `<prefix>.deleted` with what it held."""
    with transaction.atomic():
        record_audit(
            action=f"{action_prefix}.deleted",
            target=instance,
            organization=organization,
            actor=actor,
            before=audited_fields(instance, fields),
        )
        instance.delete()


def create_organization(*, name: str) -> Organization:
    base = slugify(name)[:60] or "org"
    slug = base
    while Organization.objects.filter(slug=slug).exists():
        slug = f"{base}-{secrets.token_hex(3)}"
    return Organization.objects.create(name=name[:200], slug=slug)


def rename_organization(*, organization: Organization, name: str, actor) -> Organization:
    """Give the organization a name of its own (sign-up names it after the first e-mail); owners and admins."""
    name = " ".join((name or "").split())
    if not name:
        raise DomainError(
            ApiErrorCode.INVALID,
            "The organization needs a name.",
            400,
            {"fields": {"name": ["This field is required."]}},
        )
    if actor.organization_id != organization.pk or not actor.can_manage_organization:
        raise DomainError(
            TenantErrorCode.FORBIDDEN_ROLE, "Only the owner or an admin can rename the organization.", 403
        )
    with transaction.atomic():
        stored = Organization.objects.select_for_update().get(pk=organization.pk)
        if stored.name != name[:200]:
            Organization.objects.filter(pk=stored.pk).update(name=name[:200])
            record_audit(
                action="organization.renamed",
                target=stored,
                organization=stored,
                actor=actor,
                before={"name": stored.name},
                after={"name": name[:200]},
            )
    organization.name = name[:200]
    return organization


def hash_secret(secret: str) -> str:
    """SHA-256 of a random secret (API keys, invitation tokens): they carry 256 bits of randomness, so a
    fast hash is enough (no brute force possible)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def hash_api_key(secret: str) -> str:
    return hash_secret(secret)


def create_api_key(
    *, organization: Organization, name: str, actor, scopes: list[str] | tuple[str, ...] | None = None
) -> tuple[ApiKey, str]:
    """Create a key and return it with its secret, which is never retrievable again.

    Only the prefix (to find the row in one indexed lookup) and a SHA-256 of the whole secret are stored.
    `scopes` defaults to invoke + read; `billing` is granted only when an owner asks for it.
    """
    name = (name or "").strip()
    if not name:
        raise DomainError(
            ApiErrorCode.INVALID, "The key needs a name.", 400, {"fields": {"name": ["This field is required."]}}
        )
    scopes = _valid_scopes(scopes, actor=actor)
    prefix = secrets.token_hex(6)
    secret = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        key = ApiKey.objects.create(
            organization=organization,
            name=name[:100],
            prefix=prefix,
            key_hash=hash_api_key(secret),
            created_by=actor,
            scopes=scopes,
        )
        record_audit(
            action="api_key.created",
            target=key,
            organization=organization,
            actor=actor,
            after={"name": key.name, "prefix": prefix, "scopes": scopes},
        )
    return key, secret


def _valid_scopes(scopes, *, actor) -> list[str]:
    chosen = list(dict.fromkeys(scopes)) if scopes else list(DEFAULT_API_KEY_SCOPES)
    unknown = [scope for scope in chosen if scope not in ApiKeyScope.values]
    if unknown:
        raise DomainError(
            ApiErrorCode.INVALID,
            f"Unknown scope {unknown[0]!r}.",
            400,
            {"fields": {"scopes": [f"Choose from {', '.join(ApiKeyScope.values)}."]}},
        )
    if ApiKeyScope.BILLING in chosen and getattr(actor, "role", None) != "owner":
        raise DomainError(
            TenantErrorCode.FORBIDDEN_ROLE,
            "Only the organization's owner can create a key with the billing scope.",
            403,
            {"fields": {"scopes": ["The billing scope needs the owner."]}},
        )
    return chosen


def revoke_api_key(*, key: ApiKey, actor) -> ApiKey:
    """Revoke at once: the very next request with the key fails (on other servers within
    `tenants.api_key_cache.POLL_SECONDS`).

    Idempotent: revoking a revoked key changes nothing and writes no second audit row.
    """
    now = timezone.now()
    with transaction.atomic():
        updated = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=now)
        if updated:
            key.revoked_at = now
            api_key_cache.invalidate()  # QuerySet.update() sends no signal
            record_audit(
                action="api_key.revoked",
                target=key,
                organization=key.organization,
                actor=actor,
                before={"revoked_at": None},
                after={"revoked_at": now.isoformat()},
            )
        else:
            key.refresh_from_db(fields=["revoked_at"])
    return key


def mark_api_key_used(*, key: ApiKey) -> None:
    """Record use at most once a minute, so the hot path does not write a row on every call."""
    now = timezone.now()
    if key.last_used_at is not None and now - key.last_used_at < API_KEY_TOUCH_INTERVAL:
        return
    ApiKey.objects.filter(pk=key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - API_KEY_TOUCH_INTERVAL)
    ).update(last_used_at=now)
    key.last_used_at = now
