"""The leads page: what the organization's clients told its agents they want. Every member lists,
filters, exports (CSV) and moves a lead along (new → contacted → won or lost), as through the API;
owners are told of each new lead, admins when they opt in here."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from botgeneric.errors import DomainError
from channels_web.deployment_forms import LeadFilterForm, LeadNoticesForm, LeadStatusForm
from channels_web.messages import describe_error
from channels_web.views.deployments import upgrade_prompt
from leads import selectors, services
from leads.csv_export import csv_lines
from leads.models import LeadStatus

LEADS_PER_PAGE = 25


def _status_filter(request) -> str:
    form = LeadFilterForm(request.GET)
    return form.cleaned_data["status"] if form.is_valid() else ""


def _lead_or_404(user, lead_id: int):
    try:
        return selectors.access_lead(user=user, lead_id=lead_id)
    except selectors.NotFound:
        raise Http404 from None


def _back(request, fallback: str) -> str:
    """Where a form on the list or a lead's page returns to: the page it was sent from, if ours."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


@login_required
def leads_page(request):
    user = request.user
    status = _status_filter(request)
    leads = selectors.leads_for(organization_id=user.organization_id, status=status or None)
    page = Paginator(leads, LEADS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "filter_form": LeadFilterForm(initial={"status": status}),
        "status": status,
        "status_choices": LeadStatus.choices,
        "notices": selectors.lead_notices(user=user),
        "can_manage": user.can_manage_organization,
        "upgrade": upgrade_prompt(user),
    }
    return render(request, "web/leads.html", context)


@login_required
def lead_page(request, lead_id: int):
    """One lead, the page the owner's notice links to."""
    lead = _lead_or_404(request.user, lead_id)
    context = {"lead": lead, "status_choices": LeadStatus.choices}
    return render(request, "web/lead.html", context)


@login_required
@require_POST
def lead_status(request, lead_id: int):
    lead = _lead_or_404(request.user, lead_id)
    form = LeadStatusForm(request.POST)
    if form.is_valid():
        services.change_status(lead=lead, actor=request.user, status=form.cleaned_data["status"])
        messages.success(request, _("The lead's status was changed."))
    else:
        messages.error(request, _("Choose one of the statuses offered."))
    return redirect(_back(request, reverse("web:lead", args=[lead.pk])))


@login_required
def leads_csv(request):
    """All the leads the list shows (its status filter too), as CSV, streamed."""
    status = _status_filter(request)
    leads = selectors.leads_for(organization_id=request.user.organization_id, status=status or None)
    response = StreamingHttpResponse(csv_lines(leads), content_type="text/csv; charset=utf-8")
    name = f"leads-{status or 'all'}-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def lead_notices(request):
    form = LeadNoticesForm(request.POST)
    form.is_valid()
    watching = form.cleaned_data.get("watching", False)
    try:
        services.set_watching(user=request.user, watching=watching)
    except DomainError as error:
        messages.error(request, describe_error(error).text)
    else:
        if watching:
            messages.success(request, _("You will be told of each new lead."))
        else:
            messages.success(request, _("You will not be told of new leads any more."))
    return redirect("web:leads")
