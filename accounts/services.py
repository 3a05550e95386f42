"""Writes for accounts. Every channel's sign-up (API, web, Telegram) goes through register_user."""

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
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


def get_or_create_telegram_user(*, telegram_id: int, name: str = "", locale: str = "en") -> User:
    """The account behind a Telegram identity, created through register_user on first contact.

    The bot and the web Login Widget both land here, so one Telegram user is one account.
    Two first messages racing each other are settled by the unique telegram_id: the loser's
    transaction rolls back inside register_user and it reads the winner's row.
    """
    user = User.objects.filter(telegram_id=telegram_id).first()
    if user is not None:
        return user
    if locale not in settings.SUPPORTED_LOCALES:
        locale = settings.LANGUAGE_CODE
    try:
        return register_user(
            email=None,
            password=None,
            locale=locale,
            name=name[:150],
            auth_provider=AuthProvider.TELEGRAM,
            telegram_id=telegram_id,
        )
    except AccountError:
        user = User.objects.filter(telegram_id=telegram_id).first()
        if user is None:
            raise
        return user


def attach_email(*, user: User, email: str) -> User:
    """Give an account (typically a Telegram one) an e-mail login; an address in use elsewhere is refused.

    Accounts are never merged silently: the owner of the other account has to act from there.
    """
    normalized = normalize_email(email)
    try:
        validate_email(normalized or "")
    except ValidationError:
        raise AccountError(
            "invalid_email", "Enter a valid e-mail address.", extra={"fields": {"email": ["Enter a valid e-mail."]}}
        ) from None
    if user.email == normalized:
        return user
    taken = AccountError(
        "email_taken",
        "An account with this e-mail already exists.",
        extra={"fields": {"email": ["An account with this e-mail already exists."]}},
    )
    if User.objects.filter(email__iexact=normalized).exclude(pk=user.pk).exists():
        raise taken
    before = {"email": user.email, "email_verified": user.email_verified}
    try:
        with transaction.atomic():
            user.email = normalized
            user.email_verified = False
            user.save(update_fields=["email", "email_verified"])
            record_audit(
                action="user.email_attached",
                target=user,
                organization=user.organization,
                actor=user,
                before={"email": before["email"]},
                after={"email": normalized},
            )
    except IntegrityError:
        user.email, user.email_verified = before["email"], before["email_verified"]
        raise taken from None
    return user
