"""Writes for accounts. Every channel's sign-up (API, web, Telegram) goes through register_user."""

import logging
import smtplib

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F

from accounts.email_addresses import normalize_email, trial_identity_for_email
from accounts.errors import AccountErrorCode
from accounts.membership import announce_member_joined, claim_for_signup, record_join
from accounts.models import AuthProvider, TrialClaim, User
from accounts.selectors import trial_identities
from botgeneric.errors import ApiErrorCode, DomainError
from tenants import api_key_cache
from tenants.models import Role
from tenants.services import audited_fields, create_organization, record_audit

logger = logging.getLogger(__name__)


class AccountError(DomainError):
    code = ApiErrorCode.INVALID
    http_status = 400


def validate_locale(locale: str) -> str:
    if locale not in settings.SUPPORTED_LOCALES:
        raise AccountError(
            AccountErrorCode.UNSUPPORTED_LOCALE,
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
    send_verification: bool = False,
    invitation_token: str | None = None,
) -> User:
    """Create a user, a new organization with the user as owner, and what a new tenant starts with.

    With `invitation_token` the user joins the inviting organization with the invitation's role instead
    (no organization, no trial of their own); the address must be the invited one, and counts as verified
    since the link reached it. `send_verification` records the address as unverified for allauth and mails
    its confirmation link after commit; allauth's own sign-up flows (web, social) record and mail it themselves.
    """
    email = normalize_email(email)
    validate_locale(locale)
    if email and User.objects.filter(email=email).exists():
        raise AccountError(
            AccountErrorCode.EMAIL_TAKEN,
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
                AccountErrorCode.WEAK_PASSWORD, " ".join(exc.messages), extra={"fields": {"password": exc.messages}}
            ) from None
        user.set_password(password)
    else:
        user.set_unusable_password()
    try:
        with transaction.atomic():
            if invitation_token is not None:
                return _register_invited(user=user, token=invitation_token, send_verification=send_verification)
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
            if send_verification and email and not email_verified:
                _send_verification(user=user)
            _start_tenant(user)
    except IntegrityError:
        raise AccountError(
            AccountErrorCode.EMAIL_TAKEN,
            "An account with this e-mail already exists.",
            extra={"fields": {"email": ["An account with this e-mail already exists."]}},
        ) from None
    return user


def _register_invited(*, user: User, token: str, send_verification: bool) -> User:
    invitation = claim_for_signup(token=token, email=user.email)
    user.organization, user.role, user.email_verified = invitation.organization, invitation.role, True
    user.save()
    record_audit(
        action="user.registered",
        target=user,
        organization=user.organization,
        actor=user,
        after={"auth_provider": user.auth_provider, "role": user.role, "invitation": invitation.pk},
    )
    if send_verification:  # allauth's web sign-up records the address itself (as verified, see its adapter)
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    record_join(user=user, invitation=invitation)
    return user


def _start_tenant(user: User) -> None:
    """What every new organization gets: the trial, unless the person behind it already had one."""
    from billing.services import start_trial

    if claim_trial(user=user):
        start_trial(organization=user.organization, actor=user)
    else:
        logger.info("no trial for organization %s: its identity already had one", user.organization_id)


def claim_trial(*, user: User) -> bool:
    """Record the user's identities as having had a trial; True when none of them had one before.

    Call inside the sign-up transaction: of two concurrent sign-ups of one identity, the second
    waits on the unique index and then finds the first one's claim.
    """
    created = [
        TrialClaim.objects.get_or_create(identity=identity, defaults={"organization": user.organization})[1]
        for identity in trial_identities(user)
    ]
    return all(created)


def _send_verification(*, user: User) -> None:
    """Make the user's address allauth's primary, unverified one and mail the link once committed."""
    EmailAddress.objects.filter(user=user).delete()
    address = EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=False)
    transaction.on_commit(lambda: _mail_confirmation(address))


def _mail_confirmation(address: EmailAddress) -> None:
    # After commit the account exists whatever the mail server does; the owner can ask for a new link.
    try:
        address.send_confirmation(signup=True)
    except (OSError, smtplib.SMTPException):
        logger.exception("verification e-mail not sent", extra={"user_id": address.user_id})


def mark_email_verified(*, user: User, email: str, actor=None, actor_label: str = "") -> User:
    """The owner proved the address (allauth's link, or support staff): lift the unverified limits."""
    email = normalize_email(email)
    if user.email != email:
        return user
    with transaction.atomic():
        EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
        if not user.email_verified:
            User.objects.filter(pk=user.pk).update(email_verified=True)
            user.email_verified = True
            api_key_cache.invalidate()  # the key's creator changed (QuerySet.update() sends no signal)
            record_audit(
                action="user.email_verified",
                target=user,
                organization=user.organization,
                actor=actor,
                actor_label=actor_label,
                after={"email": email},
            )
    return user


def verify_email_address(*, email: str, actor_label: str) -> User:
    """Support marks an address verified (`manage.py verify_email`)."""
    user = User.objects.filter(email=normalize_email(email)).first()
    if user is None:
        raise AccountError(ApiErrorCode.NOT_FOUND, f"No account has the e-mail {email!r}.")
    return mark_email_verified(user=user, email=user.email, actor_label=actor_label)


def revoke_tokens(*, user: User, reason: str) -> None:
    """Every JWT issued to the user so far stops working, on every server, at once."""
    User.objects.filter(pk=user.pk).update(token_version=F("token_version") + 1)
    user.refresh_from_db(fields=["token_version"])
    record_audit(action="user.tokens_revoked", target=user, organization=user.organization, after={"reason": reason})


def change_password(*, user: User, password: str | None) -> User:
    """Set a new password (change or reset; None = no password login) and revoke the tokens issued so far."""
    with transaction.atomic():
        if password is None:
            user.set_unusable_password()
        else:
            user.set_password(password)
        user.save(update_fields=["password"])
        revoke_tokens(user=user, reason="password_changed")
    return user


def set_active(*, user: User, is_active: bool, actor=None) -> User:
    """Deactivate (or reactivate) a user; deactivation revokes their tokens."""
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=is_active)
        user.is_active = is_active
        api_key_cache.invalidate()  # their API keys stop (or resume) working (QuerySet.update() sends no signal)
        if not is_active:
            revoke_tokens(user=user, reason="deactivated")
        record_audit(
            action="user.deactivated" if not is_active else "user.reactivated",
            target=user,
            organization=user.organization,
            actor=actor,
            after={"is_active": is_active},
        )
    return user


# What an operator may change about a person's place and rights, and the audit action of each change.
MEMBERSHIP_ACTIONS = {
    "organization": "member.organization_changed",
    "role": "member.role_changed",
    "is_staff": "user.staff_changed",
    "is_superuser": "user.superuser_changed",
}


def save_user_by_operator(*, user: User, actor) -> User:
    """The console's save of a user: a new user is audited as `user.created`, and each change of
    organization, role or staff rights as its own row with the value before and after."""
    with transaction.atomic():
        stored = User.objects.select_for_update().filter(pk=user.pk).first() if user.pk else None
        before = audited_fields(stored, MEMBERSHIP_ACTIONS) if stored is not None else None
        user.save()
        after = audited_fields(user, MEMBERSHIP_ACTIONS)
        if user.organization_id and (before is None or before["organization"] != after["organization"]):
            announce_member_joined(user)
        if before is None:
            record_audit(action="user.created", target=user, organization=user.organization, actor=actor, after=after)
            return user
        for name, action in MEMBERSHIP_ACTIONS.items():
            if before[name] != after[name]:
                record_audit(
                    action=action,
                    target=user,
                    organization=user.organization or stored.organization,
                    actor=actor,
                    before={name: before[name]},
                    after={name: after[name]},
                )
    return user


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
            AccountErrorCode.INVALID_EMAIL,
            "Enter a valid e-mail address.",
            extra={"fields": {"email": ["Enter a valid e-mail."]}},
        ) from None
    if user.email == normalized:
        return user
    taken = AccountError(
        AccountErrorCode.EMAIL_TAKEN,
        "An account with this e-mail already exists.",
        extra={"fields": {"email": ["An account with this e-mail already exists."]}},
    )
    if User.objects.filter(email=normalized).exclude(pk=user.pk).exists():
        raise taken
    before = {"email": user.email, "email_verified": user.email_verified}
    try:
        with transaction.atomic():
            user.email = normalized
            user.email_verified = False
            user.save(update_fields=["email", "email_verified"])
            TrialClaim.objects.get_or_create(
                identity=trial_identity_for_email(normalized), defaults={"organization": user.organization}
            )
            _send_verification(user=user)
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
