"""Reads for accounts."""

import hashlib

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from accounts.email_addresses import normalize_email, trial_identity_for_email, trial_identity_for_telegram
from accounts.models import TrialClaim, User


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
