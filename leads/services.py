"""Writes of leads: registering one (the `register_lead` tool) and the owner's changes of status."""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from botgeneric.errors import ApiErrorCode, DomainError
from deployments.models import Contact
from leads.models import OPEN_STATUSES, Lead, LeadStatus, LeadWatcher
from tenants.errors import TenantErrorCode
from tenants.services import record_audit
from webhooks.models import EventType
from webhooks.services import emit

logger = logging.getLogger(__name__)

# A second register_lead for the same client within this window updates the open lead.
DEDUP_WINDOW = timedelta(minutes=5)
LEAD_FIELDS = ("name", "phone", "email", "telegram", "need", "budget", "notes")
FIELD_LIMITS = {"name": 200, "phone": 40, "email": 254, "telegram": 64, "budget": 120, "need": 4000, "notes": 4000}


def register_lead(
    *, organization_id: int, contact_id: int, conversation_id: int | None, deployment_id: int | None, details: dict
) -> tuple[Lead, bool]:
    """Save what the client told the agent as a lead, or fold it into the client's open lead of the last
    five minutes: (the lead, whether it is new). The client's row is locked first, so two calls at once
    for the same client serialize and make one lead. A new lead tells the owners after commit."""
    values = {field: str(details.get(field) or "").strip()[: FIELD_LIMITS[field]] for field in LEAD_FIELDS}
    with transaction.atomic():
        contact = Contact.objects.select_for_update().filter(pk=contact_id, organization_id=organization_id).first()
        if contact is None:
            raise DomainError(ApiErrorCode.NOT_FOUND, "Contact not found.", 404)
        lead = (
            Lead.objects.filter(
                contact=contact, status__in=OPEN_STATUSES, created_at__gte=timezone.now() - DEDUP_WINDOW
            )
            .order_by("-created_at", "-id")
            .first()
        )
        created = lead is None
        if created:
            lead = Lead.objects.create(
                organization_id=organization_id,
                contact=contact,
                conversation_id=conversation_id,
                deployment_id=deployment_id,
                **values,
            )
        else:
            for field, value in values.items():
                if value and field == "notes" and lead.notes and value not in lead.notes:
                    value = f"{lead.notes}\n{value}"
                if value:
                    setattr(lead, field, value)
            lead.save()
        handles = {key: values[key] for key in ("phone", "email", "telegram") if values[key]}
        if handles and any(contact.handles.get(key) != value for key, value in handles.items()):
            contact.handles = {**contact.handles, **handles}
            contact.save(update_fields=["handles"])
        record_audit(
            action="lead.created" if created else "lead.updated",
            target=lead,
            organization=contact.organization,
            actor_label=f"contact:{contact.pk}",
            after={field: getattr(lead, field) for field in LEAD_FIELDS},
        )
        if created:
            from leads.notifications import announce_lead

            transaction.on_commit(lambda: announce_lead(lead_id=lead.pk))
            emit(organization=organization_id, event_type=EventType.LEAD_CREATED, payload={"lead": _lead_data(lead)})
    logger.info("lead %s %s org=%s", lead.pk, "created" if created else "updated", organization_id)
    return lead, created


def _lead_data(lead: Lead) -> dict:
    return {
        "id": lead.pk,
        "status": lead.status,
        **{field: getattr(lead, field) for field in LEAD_FIELDS},
        "contact": lead.contact_id,
        "conversation": lead.conversation_id,
        "deployment": lead.deployment_id,
        "created_at": lead.created_at.isoformat(),
    }


def change_status(*, lead: Lead, actor, status: str) -> Lead:
    if status not in LeadStatus.values:
        raise DomainError(
            ApiErrorCode.INVALID,
            "Unknown status.",
            400,
            {"fields": {"status": [f"Choose from {', '.join(LeadStatus.values)}."]}},
        )
    if status == lead.status:
        return lead
    before = lead.status
    with transaction.atomic():
        Lead.objects.filter(pk=lead.pk).update(status=status, updated_at=timezone.now())
        lead.status = status
        record_audit(
            action="lead.status_changed",
            target=lead,
            organization=lead.organization,
            actor=actor,
            before={"status": before},
            after={"status": status},
        )
    return lead


def set_watching(*, user, watching: bool) -> bool:
    """An owner or admin asks to be told of new leads too (owners always are), or stops."""
    if watching and not user.can_manage_organization:
        raise DomainError(TenantErrorCode.FORBIDDEN_ROLE, "Only owners and admins are told of new leads.", 403)
    with transaction.atomic():
        if watching:
            changed = LeadWatcher.objects.get_or_create(user=user)[1]
        else:
            changed = LeadWatcher.objects.filter(user=user).delete()[0] > 0
        if changed:
            record_audit(
                action="lead_notices.changed",
                target=user,
                organization=user.organization,
                actor=user,
                before={"watching": not watching},
                after={"watching": watching},
            )
    return watching
