"""A new lead, told to the organization's owners and the admins who opted in, in their language."""

from django.conf import settings
from django.utils.translation import gettext as _

from leads.models import Lead
from leads.selectors import watchers_of
from notifications import direct as owner_notices


def lead_url(lead: Lead) -> str:
    scheme = "https" if settings.HTTPS_ONLY else "http"
    return f"{scheme}://{settings.SITE_DOMAIN}/leads/{lead.pk}/"


def announce_lead(*, lead_id: int) -> int:
    """Tell owners and watching admins of lead `lead_id` (after commit); returns how many were told."""
    lead = Lead.objects.select_related("contact", "deployment__agent").filter(pk=lead_id).first()
    if lead is None:
        return 0

    def render() -> tuple[str, str]:
        who = lead.name or lead.contact.name or lead.contact.external_id
        lines = [_("New lead: %(who)s") % {"who": who}]
        reach = ", ".join(value for value in (lead.phone, lead.email, lead.telegram) if value)
        if reach:
            lines.append(_("Contact: %(reach)s") % {"reach": reach})
        if lead.need:
            lines.append(_("Needs: %(need)s") % {"need": lead.need})
        if lead.budget:
            lines.append(_("Budget: %(budget)s") % {"budget": lead.budget})
        if lead.deployment is not None:
            lines.append(_("Via: %(agent)s") % {"agent": lead.deployment.agent.name})
        lines.append(lead_url(lead))
        return _("New lead: %(who)s") % {"who": who}, "\n".join(lines)

    people = owner_notices.owners_and(
        organization_id=lead.organization_id, users=watchers_of(organization_id=lead.organization_id)
    )
    return owner_notices.notify(people=people, render=render)
