"""Reads of leads, inside the caller's organization: another organization's id is a 404."""

from django.db.models import QuerySet

from botgeneric.errors import ApiErrorCode, DomainError
from leads.models import Lead, LeadWatcher
from tenants.models import Role


class NotFound(DomainError):
    code = ApiErrorCode.NOT_FOUND
    http_status = 404


def leads_for(*, organization_id: int | None, status: str | None = None) -> QuerySet[Lead]:
    leads = Lead.objects.filter(organization_id=organization_id).select_related("contact", "deployment__agent")
    if status:
        leads = leads.filter(status=status)
    return leads.order_by("-created_at", "-id")


def access_lead(*, user, lead_id) -> Lead:
    lead = leads_for(organization_id=user.organization_id).filter(pk=lead_id).first()
    if lead is None or user.organization_id is None:
        raise NotFound(detail="Lead not found.")
    return lead


def is_watching(*, user) -> bool:
    return LeadWatcher.objects.filter(user=user).exists()


def lead_notices(*, user) -> dict:
    """Whether `user` is told of new leads: owners always, owners and admins who opted in."""
    always = user.role == Role.OWNER
    return {"always": always, "watching": always or (user.can_manage_organization and is_watching(user=user))}


def watchers_of(*, organization_id: int) -> list:
    """Owners and admins of the organization who asked to hear of new leads (an admin made a member since
    is not told any more)."""
    return [
        watcher.user
        for watcher in LeadWatcher.objects.select_related("user").filter(
            user__organization_id=organization_id, user__role__in=(Role.OWNER, Role.ADMIN)
        )
    ]
