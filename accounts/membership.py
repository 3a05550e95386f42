"""Writes for the people of an organization: invitations, joining, roles, removal and ownership.

Owners and admins invite by e-mail with a role (admin or member: ownership is transferred, never given).
The link carries a random token of which only a hash is stored; it works once, until it expires
(`INVITATION_EXPIRY_DAYS`), and only for the invited address. A new person signs up through it
(`accounts.services.register_user(invitation_token=…)`) and joins instead of getting an organization of
their own; a signed-in person whose organization is theirs alone and empty (`accounts.selectors.own_data_of`)
moves, and that empty organization is removed. Seats are the policy's (`policy.seats.can_add_member`), asked
while the organization's row is locked. Every change writes an audit row; a join sends the `member.joined`
webhook after commit.

Locks are taken in one order: organizations by id, then the invitation, then people by id.
"""

import logging
import secrets
import smtplib
from datetime import timedelta

from allauth.utils import build_absolute_uri
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.email_addresses import normalize_email
from accounts.errors import AccountErrorCode
from accounts.models import User
from accounts.selectors import own_data_of
from botgeneric.errors import ApiErrorCode, DomainError
from policy.seats import can_add_member, can_join
from tenants.errors import TenantErrorCode
from tenants.models import INVITABLE_ROLES, ApiKey, AuditEvent, Invitation, InvitationStatus, Organization, Role
from tenants.selectors import NotFound, invitation_for_token
from tenants.services import hash_secret, record_audit
from webhooks.models import EventType
from webhooks.services import emit

logger = logging.getLogger(__name__)

# The refusal of each invitation that can no longer be used.
_UNUSABLE = {
    InvitationStatus.ACCEPTED: (TenantErrorCode.INVITATION_USED, "This invitation has already been used."),
    InvitationStatus.REVOKED: (TenantErrorCode.INVITATION_REVOKED, "This invitation was withdrawn."),
    InvitationStatus.EXPIRED: (TenantErrorCode.INVITATION_EXPIRED, "This invitation has expired; ask for a new one."),
}


def _require_manager(actor, organization_id: int | None) -> None:
    if organization_id is None or actor.organization_id != organization_id or not actor.can_manage_organization:
        raise DomainError(
            TenantErrorCode.FORBIDDEN_ROLE, "Only the organization's owner or an admin can manage its members.", 403
        )


def _invitable_role(role: str) -> str:
    if role not in INVITABLE_ROLES:
        raise DomainError(
            ApiErrorCode.INVALID,
            "Invite as admin or member; ownership is transferred, not given.",
            400,
            {"fields": {"role": ["Choose admin or member."]}},
        )
    return role


def invite_member(*, actor: User, email: str, role: str = Role.MEMBER) -> Invitation:
    """Invite `email` into the actor's organization and mail the link after commit.

    An open invitation to the same address is replaced (withdrawn, its seat freed, a new link mailed), so
    "invite again" is how a lost or expired link is resent. Refused when the address is already a member
    (409 `already_member`) or the plan has no seat left (403 `seats_exhausted`).
    """
    _require_manager(actor, actor.organization_id)
    role = _invitable_role(role)
    email = normalize_email(email) or ""
    try:
        validate_email(email)
    except ValidationError:
        raise DomainError(
            ApiErrorCode.INVALID, "Enter a valid e-mail address.", 400, {"fields": {"email": ["Enter a valid e-mail."]}}
        ) from None
    now = timezone.now()
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        organization = Organization.objects.select_for_update().get(pk=actor.organization_id)
        if User.objects.filter(organization=organization, email=email).exists():
            raise DomainError(TenantErrorCode.ALREADY_MEMBER, "This person is already a member.", 409)
        open_before = Invitation.objects.filter(
            organization=organization, email=email, accepted_at__isnull=True, revoked_at__isnull=True
        )
        replaced = list(open_before.values_list("pk", flat=True))
        open_before.update(revoked_at=now)
        can_add_member(organization=organization).enforce()
        invitation = Invitation.objects.create(
            organization=organization,
            email=email,
            role=role,
            token_hash=hash_secret(token),
            invited_by=actor,
            expires_at=now + timedelta(days=settings.INVITATION_EXPIRY_DAYS),
        )
        record_audit(
            action="invitation.created",
            target=invitation,
            organization=organization,
            actor=actor,
            after={"email": email, "role": role, "expires_at": invitation.expires_at.isoformat(), "replaces": replaced},
        )
        transaction.on_commit(lambda: send_invitation_email(invitation_id=invitation.pk, token=token))
    return invitation


def revoke_invitation(*, invitation: Invitation, actor: User) -> Invitation:
    """Withdraw an open invitation: its link stops working and its seat is free. Revoking twice is a no-op."""
    _require_manager(actor, invitation.organization_id)
    now = timezone.now()
    with transaction.atomic():
        open_one = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True)
        if open_one.update(revoked_at=now):
            invitation.revoked_at = now
            record_audit(
                action="invitation.revoked",
                target=invitation,
                organization=invitation.organization,
                actor=actor,
                before={"email": invitation.email, "role": invitation.role},
            )
    return invitation


def send_invitation_email(*, invitation_id: int, token: str) -> None:
    """Mail the link, in the invitee's language when they have an account, else the inviter's. Runs after
    commit; `send_mail` queues the message for the `background.send_email` task."""
    invitation = Invitation.objects.select_related("organization", "invited_by").filter(pk=invitation_id).first()
    if invitation is None or invitation.status_at(timezone.now()) != InvitationStatus.PENDING:
        return
    invitee = User.objects.filter(email=invitation.email).first()
    inviter = invitation.invited_by
    locale = (invitee or inviter).locale if (invitee or inviter) else settings.LANGUAGE_CODE
    link = build_absolute_uri(None, reverse("web:invitation", args=[token]))
    with translation.override(locale or settings.LANGUAGE_CODE):
        words = {
            "inviter": (inviter.name or inviter.email) if inviter else settings.SITE_NAME,
            "organization": invitation.organization.name,
            "site": settings.SITE_NAME,
            "role": str(Role(invitation.role).label).lower(),
            "link": link,
            "expires": f"{date_format(invitation.expires_at, 'DATETIME_FORMAT')} UTC",
        }
        subject = _("%(inviter)s invited you to %(organization)s") % words
        body = "\n\n".join(
            [
                _("%(inviter)s invited you to join %(organization)s on %(site)s as %(role)s.") % words,
                _("Accept the invitation here: %(link)s") % words,
                _(
                    "The link works once, for this e-mail address, until %(expires)s. "
                    "If you did not expect it, ignore this message."
                )
                % words,
            ]
        )
    try:
        send_mail(subject, body, None, [invitation.email])
    except (smtplib.SMTPException, OSError):
        logger.exception("invitation e-mail not sent", extra={"invitation_id": invitation.pk})


def _usable_invitation(*, invitation_id: int) -> Invitation:
    """The invitation locked, if it can still be used; otherwise its refusal (410)."""
    invitation = Invitation.objects.select_for_update().select_related("organization").get(pk=invitation_id)
    status = invitation.status_at(timezone.now())
    if status != InvitationStatus.PENDING:
        code, detail = _UNUSABLE[status]
        raise DomainError(code, detail, 410)
    can_join(organization=invitation.organization).enforce()
    return invitation


def _found(token: str) -> Invitation:
    invitation = invitation_for_token(token)
    if invitation is None:
        raise DomainError(TenantErrorCode.INVITATION_INVALID, "This invitation link is not valid.", 404)
    return invitation


def claim_for_signup(*, token: str, email: str | None) -> Invitation:
    """The invitation a sign-up joins through, locked (call inside the sign-up's transaction): usable and
    sent to the address signing up. The link reached that mailbox, so the address counts as verified."""
    found = _found(token)
    Organization.objects.select_for_update().filter(pk=found.organization_id).first()
    invitation = _usable_invitation(invitation_id=found.pk)
    if normalize_email(email) != invitation.email:
        raise DomainError(
            TenantErrorCode.INVITATION_EMAIL_MISMATCH,
            "This invitation is for another e-mail address; sign up with the invited one.",
            403,
            {"fields": {"email": ["Use the address the invitation was sent to."]}},
        )
    return invitation


def record_join(*, user: User, invitation: Invitation, moved_from: int | None = None) -> None:
    """Mark the invitation used by `user`, audit the join and announce it once committed."""
    Invitation.objects.filter(pk=invitation.pk).update(accepted_at=timezone.now(), accepted_by=user)
    organization = invitation.organization
    record_audit(
        action="member.joined",
        target=user,
        organization=organization,
        actor=user,
        after={"email": user.email, "role": invitation.role, "invitation": invitation.pk, "moved_from": moved_from},
    )
    announce_member_joined(user, organization_id=organization.pk, role=invitation.role)


def announce_member_joined(user: User, *, organization_id: int | None = None, role: str | None = None) -> None:
    """The `member.joined` webhook of the organization `user` joins (by an invitation, or moved there by an
    operator), sent once the caller commits. A sign-up founding its own organization has no endpoints to tell."""
    emit(
        organization=organization_id or user.organization_id,
        event_type=EventType.MEMBER_JOINED,
        payload={"member": {"id": user.pk, "email": user.email, "name": user.name, "role": role or user.role}},
    )


def accept_invitation(*, user: User, token: str) -> User:
    """A signed-in person joins through a link sent to their verified address.

    Someone already in an organization moves only when it is theirs alone and holds nothing
    (`own_data_of`); that empty organization is then removed (its audit rows are kept, without it).
    Otherwise 409 `organization_not_empty` with the reasons.
    """
    found = _found(token)
    with transaction.atomic():
        organization_ids = sorted({found.organization_id, user.organization_id} - {None})
        organizations = {
            organization.pk: organization
            for organization in Organization.objects.select_for_update().filter(pk__in=organization_ids).order_by("pk")
        }
        invitation = _usable_invitation(invitation_id=found.pk)
        person = User.objects.select_for_update().get(pk=user.pk)
        if person.email != invitation.email:
            raise DomainError(
                TenantErrorCode.INVITATION_EMAIL_MISMATCH,
                "This invitation was sent to another e-mail address; sign in with that one.",
                403,
            )
        if not person.email_verified:
            raise DomainError(
                TenantErrorCode.INVITATION_EMAIL_UNVERIFIED,
                "Verify your e-mail address (the link we mailed you), then accept the invitation.",
                403,
            )
        if person.organization_id == invitation.organization_id:
            raise DomainError(TenantErrorCode.ALREADY_MEMBER, "You are already a member of this organization.", 409)
        previous = organizations.get(person.organization_id)
        if previous is not None and (reasons := own_data_of(user=person)):
            raise DomainError(
                TenantErrorCode.ORGANIZATION_NOT_EMPTY,
                "Your organization has data or people of its own, so you cannot move to another one: "
                + ", ".join(reasons)
                + ".",
                409,
                {"reasons": reasons},
            )
        person.organization, person.role = invitation.organization, invitation.role
        person.save(update_fields=["organization", "role"])  # the API keys memo is dropped (tenants.apps)
        record_join(user=person, invitation=invitation, moved_from=previous.pk if previous else None)
        if previous is not None:
            _remove_empty_organization(organization=previous, actor=person, moved_to=invitation.organization_id)
    user.organization, user.role = person.organization, person.role
    return person


def _remove_empty_organization(*, organization: Organization, actor: User, moved_to: int) -> None:
    """Delete an organization its only person left (its trial account and counters go with it). Its audit
    rows stay, detached from it, with one more that says where the person went."""
    AuditEvent.objects.filter(organization=organization).update(organization=None)
    record_audit(
        action="organization.removed",
        target=organization,
        actor=actor,
        before={"name": organization.name, "slug": organization.slug},
        after={"reason": "only_member_moved", "moved_to": moved_to},
    )
    organization.delete()


def _owner_refusal(*, actor: User, member: User) -> DomainError:
    if actor.pk == member.pk:
        return DomainError(AccountErrorCode.OWNER_MUST_TRANSFER, "Transfer ownership to another member first.", 409)
    return DomainError(TenantErrorCode.FORBIDDEN_ROLE, "An admin cannot change or remove the owner.", 403)


def _locked_member(*, actor: User, member: User) -> User:
    locked = User.objects.select_for_update().filter(pk=member.pk, organization_id=actor.organization_id).first()
    if locked is None:
        raise NotFound(detail="Member not found.")
    if locked.role == Role.OWNER:
        raise _owner_refusal(actor=actor, member=locked)
    return locked


def change_role(*, actor: User, member: User, role: str) -> User:
    """Make a member an admin or an admin a member. The owner's role changes only by a transfer; an admin
    cannot touch the owner."""
    _require_manager(actor, member.organization_id)
    if role not in Role.values or role == Role.OWNER:
        raise DomainError(
            ApiErrorCode.INVALID,
            "Choose admin or member; ownership is transferred (transfer-ownership).",
            400,
            {"fields": {"role": ["Choose admin or member."]}},
        )
    with transaction.atomic():
        locked = _locked_member(actor=actor, member=member)
        if locked.role != role:
            before = locked.role
            locked.role = role
            locked.save(update_fields=["role"])
            record_audit(
                action="member.role_changed",
                target=locked,
                organization=actor.organization,
                actor=actor,
                before={"role": before},
                after={"role": role},
            )
    return locked


def remove_member(*, actor: User, member: User) -> None:
    """Take a person out of the organization. They keep their sign-in, with no organization (an invitation
    can bring them into one); the API keys they created are revoked, so they fail on the next request."""
    _require_manager(actor, member.organization_id)
    organization = actor.organization
    with transaction.atomic():
        locked = _locked_member(actor=actor, member=member)
        keys = ApiKey.objects.filter(organization=organization, created_by=locked, revoked_at__isnull=True)
        revoked = list(keys.values_list("pk", flat=True))
        keys.update(revoked_at=timezone.now())
        before = {"email": locked.email, "role": locked.role}
        locked.organization, locked.role = None, Role.MEMBER
        locked.save(update_fields=["organization", "role"])  # the API keys memo is dropped (tenants.apps)
        record_audit(
            action="member.removed",
            target=locked,
            organization=organization,
            actor=actor,
            before=before,
            after={"api_keys_revoked": revoked},
        )


def transfer_ownership(*, actor: User, new_owner: User) -> User:
    """The owner hands the organization to another active member, who becomes its one owner; the former
    owner stays on as an admin. Owner only."""
    if actor.role != Role.OWNER or actor.organization_id is None:
        raise DomainError(TenantErrorCode.FORBIDDEN_ROLE, "Only the owner can transfer ownership.", 403)
    with transaction.atomic():
        people = {
            person.pk: person
            for person in User.objects.select_for_update()
            .filter(pk__in=[actor.pk, new_owner.pk], organization_id=actor.organization_id)
            .order_by("pk")
        }
        current, target = people.get(actor.pk), people.get(new_owner.pk)
        if current is None or current.role != Role.OWNER:
            raise DomainError(TenantErrorCode.FORBIDDEN_ROLE, "Only the owner can transfer ownership.", 403)
        if target is None:
            raise NotFound(detail="Member not found.")
        if target.pk == current.pk or not target.is_active:
            raise DomainError(
                ApiErrorCode.INVALID,
                "Choose another active member of the organization.",
                400,
                {"fields": {"user": ["Choose another active member."]}},
            )
        current.role, target.role = Role.ADMIN, Role.OWNER
        for person in (current, target):
            person.save(update_fields=["role"])
        record_audit(
            action="organization.ownership_transferred",
            target=actor.organization,
            organization=actor.organization,
            actor=actor,
            before={"owner": current.pk, "owner_email": current.email},
            after={"owner": target.pk, "owner_email": target.email},
        )
    actor.role = Role.ADMIN
    return target
