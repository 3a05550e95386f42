"""Reads for tenants, always scoped to the caller's organization."""

import copy
import hmac

from django.db.models import Case, IntegerField, QuerySet, When
from django.utils import timezone

from botgeneric.errors import ApiErrorCode, DomainError
from tenants import api_key_cache
from tenants.models import ApiKey, AuditEvent, Invitation, Role
from tenants.services import API_KEY_PREFIX, hash_api_key, hash_secret


class NotFound(DomainError):
    code = ApiErrorCode.NOT_FOUND
    http_status = 404


def api_keys_for(*, organization_id: int) -> QuerySet[ApiKey]:
    """The organization's keys, newest first (revoked ones too, so the history stays visible)."""
    return (
        ApiKey.objects.filter(organization_id=organization_id)
        .select_related("created_by")
        .order_by("-created_at", "-id")
    )


def access_api_key(*, user, key_id: int) -> ApiKey:
    """The key if it belongs to the caller's organization; otherwise 404, never 403."""
    key = api_keys_for(organization_id=user.organization_id).filter(pk=key_id).first() if user.organization_id else None
    if key is None:
        raise NotFound(detail="API key not found.")
    return key


def api_key_from_secret(secret: str) -> ApiKey | None:
    """The active key matching `secret`, or None: by prefix from the per-process memo (an indexed query when
    it is not there), then a constant-time compare of the secret's hash."""
    if not secret.startswith(API_KEY_PREFIX) or secret.count("_") < 2:
        return None
    prefix = secret[len(API_KEY_PREFIX) :].split("_", 1)[0]
    key = api_key_cache.active_key(prefix)  # memoized per process, valid for the keys' version token
    if key is None:
        return None
    if not hmac.compare_digest(key.key_hash, hash_api_key(secret)):
        return None
    return key


def api_key_principal(key: ApiKey):
    """The user a key acts as: its creator, while still an active member of the key's organization.

    None once the creator is deactivated, leaves or is deleted: the key then stops working rather
    than acting as someone else (an owner, with rights and private conversations the creator never had).
    """
    creator = key.created_by
    if creator is not None and creator.is_active and creator.organization_id == key.organization_id:
        return copy.copy(creator)  # the memo's instance is shared by requests; each request gets its own
    return None


def audit_events_for(*, organization) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(organization=organization).select_related("actor")


def members_of(*, organization) -> QuerySet:
    """The organization's people (users), owners first, then admins, then members."""
    rank = Case(When(role=Role.OWNER, then=0), When(role=Role.ADMIN, then=1), default=2, output_field=IntegerField())
    return organization.members.order_by(rank, "email", "id")


def access_member(*, user, member_id: int):
    """A person of the caller's organization; anyone else (another organization's member) is a 404."""
    member = members_of(organization=user.organization).filter(pk=member_id).first() if user.organization_id else None
    if member is None:
        raise NotFound(detail="Member not found.")
    return member


def open_invitations_for(*, organization_id: int) -> QuerySet[Invitation]:
    """Invitations neither accepted nor revoked (expired ones too, until replaced or revoked), newest first."""
    return (
        Invitation.objects.filter(organization_id=organization_id, accepted_at__isnull=True, revoked_at__isnull=True)
        .select_related("invited_by")
        .order_by("-created_at", "-id")
    )


def access_invitation(*, user, invitation_id: int) -> Invitation:
    """An open invitation of the caller's organization; otherwise 404."""
    invitation = (
        open_invitations_for(organization_id=user.organization_id).filter(pk=invitation_id).first()
        if user.organization_id
        else None
    )
    if invitation is None:
        raise NotFound(detail="Invitation not found.")
    return invitation


def invitation_for_token(token: str) -> Invitation | None:
    """The invitation a link's token belongs to (any status), found by the token's hash."""
    if not token or len(token) > 200:
        return None
    return Invitation.objects.select_related("organization", "invited_by").filter(token_hash=hash_secret(token)).first()


def invitation_status(invitation: Invitation) -> str:
    return invitation.status_at(timezone.now())
