"""Writes for accounts. Every channel's sign-up (API, web, Telegram) goes through register_user."""

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import AuthProvider, Role, User
from botgeneric.errors import DomainError
from tenants.services import create_organization, record_audit


class AccountError(DomainError):
    code = "invalid"
    http_status = 400


def normalize_email(email: str | None) -> str | None:
    email = (email or "").strip().lower()
    return email or None


def validate_locale(locale: str) -> str:
    if locale not in settings.SUPPORTED_LOCALES:
        raise AccountError(
            "unsupported_locale",
            f"Unsupported locale {locale!r}; choose one of {', '.join(settings.SUPPORTED_LOCALES)}.",
            extra={"fields": {"locale": [f"Choose one of {', '.join(settings.SUPPORTED_LOCALES)}."]}},
        )
    return locale


def register_user(
    *,
    email: str | None,
    password: str | None,
    locale: str = "en",
    name: str = "",
    auth_provider: str = AuthProvider.EMAIL,
    telegram_id: int | None = None,
    email_verified: bool = False,
) -> User:
    """Create a user, a new organization with the user as owner, and what a new tenant starts with."""
    email = normalize_email(email)
    validate_locale(locale)
    if email and User.objects.filter(email__iexact=email).exists():
        raise AccountError(
            "email_taken",
            "An account with this e-mail already exists.",
            extra={"fields": {"email": ["An account with this e-mail already exists."]}},
        )
    user = User(
        email=email,
        name=name,
        locale=locale,
        telegram_id=telegram_id,
        auth_provider=auth_provider,
        email_verified=email_verified,
        role=Role.OWNER,
    )
    if password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise AccountError(
                "weak_password", " ".join(exc.messages), extra={"fields": {"password": exc.messages}}
            ) from None
        user.set_password(password)
    else:
        user.set_unusable_password()
    try:
        with transaction.atomic():
            organization_name = name or (email.split("@")[0] if email else f"telegram-{telegram_id}")
            user.organization = create_organization(name=organization_name)
            user.save()
            record_audit(
                action="user.registered",
                target=user,
                organization=user.organization,
                actor=user,
                after={"auth_provider": auth_provider, "role": Role.OWNER},
            )
            _start_tenant(user)
    except IntegrityError:
        raise AccountError(
            "email_taken",
            "An account with this e-mail already exists.",
            extra={"fields": {"email": ["An account with this e-mail already exists."]}},
        ) from None
    return user


def _start_tenant(user: User) -> None:
    """Hook for what every new organization gets; the billing app adds the trial here."""
    from billing.services import start_trial

    start_trial(organization=user.organization, actor=user)


def update_profile(*, user: User, name: str | None = None, locale: str | None = None) -> User:
    fields = []
    if name is not None:
        user.name = name
        fields.append("name")
    if locale is not None:
        user.locale = validate_locale(locale)
        fields.append("locale")
    if fields:
        user.save(update_fields=fields)
    return user


def set_locale(*, user: User, locale: str) -> User:
    return update_profile(user=user, locale=locale)
