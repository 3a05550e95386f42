"""Reads for accounts."""

import hashlib

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from accounts.email_addresses import normalize_email, trial_identity_for_email, trial_identity_for_telegram
from accounts.models import TrialClaim, User
from billing.models import Payment
from tenants.models import Invitation, Organization


def user_by_email(email: str | None) -> User | None:
    """The account whose normalized address is exactly `email` normalized; never a case-folding match.

    Anything that is not an address (throttles read the raw body before validation; a NUL would not
    even reach PostgreSQL) matches no one.
    """
    normalized = normalize_email(email)
    try:
        validate_email(normalized)
    except ValidationError:
        return None
    return User.objects.filter(email=normalized).first()


def login_attempts_key(email: str | None) -> str:
    """What failed sign-ins count against: the account the address resolves to, else the address itself."""
    user = user_by_email(email)
    if user is not None:
        return f"user:{user.pk}"
    return "email:" + hashlib.sha256((normalize_email(email) or "").encode("utf-8", "replace")).hexdigest()


def trial_identities(user: User) -> list[str]:
    """The identities a free trial is counted against: the normalized e-mail and the Telegram id."""
    identities = [trial_identity_for_email(user.email)] if user.email else []
    if user.telegram_id is not None:
        identities.append(trial_identity_for_telegram(user.telegram_id))
    return identities


def had_trial_elsewhere(*, user: User) -> bool:
    """The user's e-mail or Telegram id had its free trial in another organization."""
    claims = TrialClaim.objects.filter(identity__in=trial_identities(user))
    return claims.exclude(organization_id=user.organization_id).exists()


# What every organization has just by existing, which moving its only person out may drop with it: the
# person themselves, its billing account (a trial; payments are checked apart), its audit trail (kept, see
# `accounts.membership`), operators' rules for it and its invitations (open ones are checked apart).
_BOOKKEEPING = frozenset({"members", "billing_account", "audit_events", "policy_rules", "invitations"})


def own_data_of(*, user: User) -> list[str]:
    """Why `user` may not leave their organization behind when an invitation moves them: empty when the
    organization is theirs alone and holds nothing of value.

    "No data" means precisely: no other person (member, even deactivated, or open invitation), no payment,
    and no row of any other kind pointing at the organization (API keys even revoked, conversations, usage
    events, deployments, contacts, leads, and whatever a later app adds). The reasons are those kinds'
    names (`members`, `invitations`, `payments`, `api_keys`, `conversations`, `usage_events`, …).
    """
    organization_id = user.organization_id
    if organization_id is None:
        return []
    reasons = []
    if User.objects.filter(organization_id=organization_id).exclude(pk=user.pk).exists():
        reasons.append("members")
    if Invitation.objects.filter(
        organization_id=organization_id, accepted_at__isnull=True, revoked_at__isnull=True
    ).exists():
        reasons.append("invitations")
    if Payment.objects.filter(account__organization_id=organization_id).exists():
        reasons.append("payments")
    for relation in Organization._meta.related_objects:
        name = relation.get_accessor_name()
        if name in _BOOKKEEPING:
            continue
        if relation.related_model._base_manager.filter(**{relation.field.attname: organization_id}).exists():
            reasons.append(name)
    return reasons
