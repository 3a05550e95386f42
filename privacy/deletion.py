"""Deleting an organization (GDPR / 152-FZ).

The owner asks, confirming with the organization's name: the organization is pending deletion for
ORGANIZATION_DELETION_GRACE_DAYS, its subscription is set to end (the provider stops renewing), and the
policy refuses its members (`organization_pending_deletion`). Until then the owner may restore it. Then
`privacy.tick` erases it: conversations, clients, leads, deployments, API keys, webhook endpoints and their
deliveries, exports, and the people's personal data; payments (and invoices) are kept, as accounting law
requires, with the organization anonymized. The erasure of one organization is one transaction: a crash
leaves it whole, to be erased again by the next tick.
"""

import logging
import re
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.deletion import anonymize_user
from accounts.models import User
from agents.models import Conversation
from billing.errors import BillingError, BillingErrorCode
from billing.models import Invoice, Payment
from billing.services import cancel
from botgeneric import telegram_bot_api as bot_api
from botgeneric.errors import ApiErrorCode, DomainError
from deployments.models import Contact, Deployment, DeploymentChannel
from deployments.services import bot_token
from leads.models import Lead, LeadWatcher
from notifications.models import Notification
from privacy.errors import PrivacyErrorCode
from privacy.selectors import check_owner
from privacy.services import delete_export_files
from tenants import api_key_cache
from tenants.models import ApiKey, AuditEvent, Invitation, Organization
from tenants.services import record_audit
from webhooks.models import WebhookEndpoint

logger = logging.getLogger(__name__)

ERASER = "privacy.erase_organization"
EMAIL = re.compile(r"[^@\s\"'<>,;]+@[^@\s\"'<>,;]+\.[A-Za-z]{2,}")
ERASED_EMAIL = "erased"
# Audit rows about billing are accounting records, and those of the deletion itself its proof: kept
# (scrubbed of e-mails), the others go.
KEPT_AUDIT = models.Q(target_type__startswith="billing.") | models.Q(action__startswith="organization.")


def schedule_deletion(*, user, confirm: str, now: datetime | None = None) -> Organization:
    """The owner asks to delete the organization; `confirm` must be its name. Members are refused at once;
    the owner can restore it until `deletion_due_at`. The subscription is then set to end at its period end."""
    check_owner(user=user)
    now = now or timezone.now()
    with transaction.atomic():
        organization = Organization.objects.select_for_update().get(pk=user.organization_id)
        if (confirm or "").strip() != organization.name.strip():
            raise DomainError(
                ApiErrorCode.INVALID,
                "Type the organization's name exactly to confirm its deletion.",
                400,
                {"fields": {"confirm": [f"Type the organization's name, “{organization.name}”, to confirm."]}},
            )
        if organization.deletion_due_at is not None:
            raise DomainError(
                PrivacyErrorCode.ALREADY_PENDING_DELETION, "The organization is already scheduled for deletion.", 409
            )
        organization.deletion_due_at = now + timedelta(days=settings.ORGANIZATION_DELETION_GRACE_DAYS)
        organization.save(update_fields=["deletion_due_at"])
        record_audit(
            action="organization.deletion_scheduled",
            target=organization,
            organization=organization,
            actor=user,
            after={"deletion_due_at": organization.deletion_due_at.isoformat()},
        )
        transaction.on_commit(lambda: _tell_members(organization, restored=False))
    _stop_renewal(organization=organization, actor=user, immediate=False)
    return organization


def restore_organization(*, user, now: datetime | None = None) -> Organization:
    """The owner takes the deletion back within the grace period (409 not_pending_deletion otherwise).
    The subscription stays set to end: the owner resumes it on the billing page if they want it renewed."""
    check_owner(user=user)
    now = now or timezone.now()
    with transaction.atomic():
        organization = Organization.objects.select_for_update().get(pk=user.organization_id)
        due = organization.deletion_due_at
        if due is None or organization.erased_at is not None or due <= now:
            raise DomainError(
                PrivacyErrorCode.NOT_PENDING_DELETION, "The organization is not scheduled for deletion.", 409
            )
        organization.deletion_due_at = None
        organization.save(update_fields=["deletion_due_at"])
        record_audit(
            action="organization.restored",
            target=organization,
            organization=organization,
            actor=user,
            before={"deletion_due_at": due.isoformat()},
        )
        transaction.on_commit(lambda: _tell_members(organization, restored=True))
    return organization


def organizations_due(*, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    due = Organization.objects.filter(deletion_due_at__lte=now, erased_at__isnull=True)
    return list(due.order_by("pk").values_list("pk", flat=True))


def erase_organization(*, organization_id: int, now: datetime | None = None) -> bool:
    """Erase a due organization (see the module); False when it is not due (restored, or erased already)."""
    now = now or timezone.now()
    organization = Organization.objects.filter(
        pk=organization_id, deletion_due_at__lte=now, erased_at__isnull=True
    ).first()
    if organization is None:
        return False
    # The subscription ends before anything is erased; a provider that cannot be reached leaves the whole
    # organization for the next tick.
    _stop_renewal(organization=organization, actor=None, immediate=True)
    with transaction.atomic():
        organization = (
            Organization.objects.select_for_update()
            .filter(pk=organization_id, deletion_due_at__lte=now, erased_at__isnull=True)
            .first()
        )
        if organization is None:
            return False
        erased = _erase_contents(organization)
        old_name = organization.name
        organization.name = f"Deleted organization {organization.pk}"
        organization.slug = f"deleted-{organization.pk}"
        organization.erased_at = now
        organization.save(update_fields=["name", "slug", "erased_at"])
        _anonymize_accounting(organization, old_name=old_name)
        record_audit(
            action="organization.erased",
            target=organization,
            organization=organization,
            actor_label=ERASER,
            after=erased,
        )
    logger.info("organization %s erased: %s", organization_id, erased)
    return True


def _erase_contents(organization: Organization) -> dict[str, int]:
    org_id = organization.pk
    members = list(User.objects.select_for_update().filter(organization_id=org_id).order_by("pk"))
    bots = Deployment.objects.filter(organization_id=org_id, channel=DeploymentChannel.TELEGRAM).order_by("pk")
    tokens = [token for token in (bot_token(bot) for bot in bots) if token]
    transaction.on_commit(lambda: _disconnect_bots(tokens))
    erased = {
        "leads": Lead.objects.filter(organization_id=org_id).delete()[0],
        "lead_watchers": LeadWatcher.objects.filter(user__organization_id=org_id).delete()[0],
        "conversations": Conversation.objects.filter(organization_id=org_id).delete()[0],
        "contacts": Contact.objects.filter(organization_id=org_id).delete()[0],
        "deployments": Deployment.objects.filter(organization_id=org_id).delete()[0],
        "api_keys": ApiKey.objects.filter(organization_id=org_id).delete()[0],
        # Their deliveries' bodies hold what was sent (leads' contacts among it).
        "webhook_endpoints": WebhookEndpoint.objects.filter(organization_id=org_id).delete()[0],
        "invitations": Invitation.objects.filter(organization_id=org_id).delete()[0],  # invitees' e-mail addresses
        "notifications": Notification.objects.filter(organization_id=org_id).delete()[0],
        "members": len(members),
    }
    api_key_cache.invalidate()
    delete_export_files(organization=organization)
    for member in members:
        anonymize_user(user=member)
    erased["audit_events"] = AuditEvent.objects.filter(organization_id=org_id).exclude(KEPT_AUDIT).delete()[0]
    return erased


def _disconnect_bots(tokens: list[str]) -> None:
    """After commit: the customer's bots stop sending us updates (best effort, like deleting a deployment)."""
    for token in tokens:
        try:
            bot_api.delete_webhook(token)
        except bot_api.BotApiError as error:
            logger.warning("deleteWebhook failed for an erased organization's bot: %s", error.description)


def _anonymize_accounting(organization: Organization, *, old_name: str) -> None:
    """Payments, invoices and billing audit rows stay, without e-mails or the organization's old name."""
    for event in AuditEvent.objects.filter(organization=organization).order_by("pk"):
        event.actor_label = ERASED_EMAIL if EMAIL.search(event.actor_label) else event.actor_label
        event.before, event.after = _scrub(event.before, old_name), _scrub(event.after, old_name)
        event.save(update_fields=["actor_label", "before", "after"])
    for payment in Payment.objects.filter(account__organization=organization).order_by("pk"):
        payment.raw = _scrub(payment.raw, old_name)
        payment.save(update_fields=["raw", "updated_at"])
    text_fields = [
        field.name
        for field in Invoice._meta.concrete_fields
        if isinstance(field, models.CharField | models.TextField | models.JSONField) and not field.choices
    ]
    for row in Invoice.objects.filter(account__organization=organization).order_by("pk"):
        for name in text_fields:
            setattr(row, name, _scrub(getattr(row, name), old_name, new_name=organization.name))
        row.save(update_fields=text_fields)


def _scrub(value, old_name: str, *, new_name: str = ""):
    """`value` (JSON, text) with e-mail addresses removed, and a value that is the organization's old name
    replaced (whole values only: a short name must not eat into other text)."""
    if isinstance(value, dict):
        return {key: _scrub(item, old_name, new_name=new_name) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub(item, old_name, new_name=new_name) for item in value]
    if isinstance(value, str):
        if old_name and value.strip() == old_name.strip():
            return new_name or ERASED_EMAIL
        return EMAIL.sub(ERASED_EMAIL, value)
    return value


def _stop_renewal(*, organization: Organization, actor, immediate: bool) -> None:
    """End the subscription through billing (the provider is called outside any transaction). Nothing to
    cancel is fine; a provider failure when the owner asks is logged (the erasure cancels again, and waits
    for the provider), and raised when erasing."""
    try:
        cancel(organization=organization, immediate=immediate, actor=actor)
    except BillingError as error:
        if error.code == BillingErrorCode.NOT_SUBSCRIBED:
            return
        if immediate:
            raise
        logger.warning("organization %s: subscription not canceled (%s)", organization.pk, error.code)


def _tell_members(organization: Organization, *, restored: bool) -> None:
    people = User.objects.filter(organization=organization, is_active=True).exclude(email=None).order_by("pk")
    for person in people:
        with translation.override(person.locale or settings.LANGUAGE_CODE):
            if restored:
                subject = _("%(organization)s was restored") % {"organization": organization.name}
                body = _("The owner restored %(organization)s: it works again as before.") % {
                    "organization": organization.name
                }
            else:
                subject = _("%(organization)s is scheduled for deletion") % {"organization": organization.name}
                body = _(
                    "The owner asked to delete %(organization)s. It is closed now, and its data will be erased "
                    "on %(date)s (UTC). Until then the owner can restore it."
                ) % {"organization": organization.name, "date": organization.deletion_due_at.strftime("%Y-%m-%d")}
        try:
            send_mail(subject, body, None, [person.email])
        except OSError:
            logger.exception("deletion notice to user %s failed", person.pk)
