"""Deleting a person's account (GDPR / 152-FZ): their personal data is erased, the row is kept.

Usage events, payments and audit rows point to the user row, so it stays, emptied: no e-mail, name,
Telegram id or password, deactivated. That ends everything that signed them in: JWTs (the token version
is raised), sessions (Django checks a session against the password hash, which changes) and API keys
(a key acts only for an active member).
"""

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.errors import AccountErrorCode
from accounts.models import User
from accounts.services import AccountError
from agents.models import Conversation
from botgeneric.errors import ApiErrorCode
from notifications.models import Notification
from tenants import api_key_cache
from tenants.models import ApiKey, Role
from tenants.services import record_audit

# What a person without a password types to confirm (a Telegram or social account).
CONFIRMATION_WORD = "DELETE"


def anonymize_user(*, user: User) -> None:
    """Empty the row of `user`'s personal data and deactivate it; the caller's transaction."""
    EmailAddress.objects.filter(user=user).delete()
    SocialAccount.objects.filter(user=user).delete()
    user.telegram_chats.all().delete()  # the bot's chats of this person (channels_tg), by the reverse relation
    Notification.objects.filter(user=user).delete()  # what they were told, rendered from names and amounts
    user.email = None
    user.name = ""
    user.telegram_id = None
    user.email_verified = False
    user.is_active = False
    user.set_unusable_password()
    user.save(update_fields=["email", "name", "telegram_id", "email_verified", "is_active", "password"])
    User.objects.filter(pk=user.pk).update(token_version=F("token_version") + 1)
    api_key_cache.invalidate()  # keys acting as this person stop at once (QuerySet.update() sends no signal)


def delete_account(*, user: User, password: str | None = None, confirm: str | None = None) -> None:
    """The person deletes their own account, after re-entering their password (or typing DELETE when
    they have none). An organization's only owner must transfer ownership or delete the organization first
    (409 owner_must_transfer). Their own conversations go; their organization's clients' stay with it."""
    _check_confirmation(user=user, password=password, confirm=confirm)
    with transaction.atomic():
        user = User.objects.select_for_update(of=("self",)).select_related("organization").get(pk=user.pk)
        organization = user.organization
        if _is_last_owner(user):
            raise AccountError(
                AccountErrorCode.OWNER_MUST_TRANSFER,
                "You own this organization: transfer ownership to another member or delete the organization "
                "before deleting your account.",
                http_status=409,
            )
        revoked = ApiKey.objects.filter(created_by=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
        conversations, _ = Conversation.objects.filter(user=user, contact__isnull=True).delete()
        anonymize_user(user=user)
        User.objects.filter(pk=user.pk).update(organization=None, role=Role.MEMBER)
        record_audit(
            action="user.deleted",
            target=user,
            organization=organization,
            actor_label=f"user:{user.pk}",
            after={"api_keys_revoked": revoked, "conversations_deleted": conversations},
        )


def _is_last_owner(user: User) -> bool:
    organization = user.organization
    if user.role != Role.OWNER or organization is None or organization.deletion_due_at is not None:
        return False
    others = User.objects.filter(organization=organization, role=Role.OWNER, is_active=True).exclude(pk=user.pk)
    return not others.exists()


def _check_confirmation(*, user: User, password: str | None, confirm: str | None) -> None:
    if user.has_usable_password():
        if not password or not user.check_password(password):
            raise AccountError(
                ApiErrorCode.INVALID,
                "Enter your current password to delete the account.",
                extra={"fields": {"password": ["The password is wrong."]}},
            )
    elif (confirm or "").strip() != CONFIRMATION_WORD:
        raise AccountError(
            ApiErrorCode.INVALID,
            f"Type {CONFIRMATION_WORD} to delete the account.",
            extra={"fields": {"confirm": [f"Type {CONFIRMATION_WORD} to confirm."]}},
        )
