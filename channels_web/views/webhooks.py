"""Webhooks pages: owners and admins register endpoints (the secret shown once), edit and delete them,
read each endpoint's deliveries and send one again."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from botgeneric.errors import DomainError
from channels_web.forms import WebhookEndpointForm
from channels_web.messages import describe_error
from channels_web.views.account import require_manager
from webhooks import selectors, services

DELIVERIES_SHOWN = 50


def _endpoint(request, endpoint_id: int):
    require_manager(request.user)
    try:
        return selectors.access_endpoint(user=request.user, endpoint_id=endpoint_id)
    except selectors.NotFound:
        raise Http404 from None


def _refused(form: WebhookEndpointForm, error: DomainError) -> None:
    """The service's refusal, in the page's language, on the field it concerns."""
    fields = error.extra.get("fields", {})
    if "url" in fields:
        form.add_error("url", _("Use an address of a server on the public internet, starting with https://."))
    else:
        form.add_error(None, describe_error(error).text)


def _list_page(request, *, form, secret=None, new_endpoint=None, status=200):
    context = {
        "endpoints": selectors.endpoints_for(organization_id=request.user.organization_id),
        "form": form,
        "secret": secret,
        "new_endpoint": new_endpoint,
    }
    return render(request, "web/webhooks.html", context, status=status)


@login_required
def webhooks(request):
    require_manager(request.user)
    return _list_page(request, form=WebhookEndpointForm())


@login_required
@require_POST
def webhook_create(request):
    """Register an endpoint and show its secret in this one response; it is never shown again."""
    require_manager(request.user)
    form = WebhookEndpointForm(request.POST)
    if not form.is_valid():
        return _list_page(request, form=form, status=400)
    try:
        endpoint, secret = services.create_endpoint(
            actor=request.user, organization=request.user.organization, **form.cleaned_data
        )
    except DomainError as error:
        _refused(form, error)
        return _list_page(request, form=form, status=400)
    return _list_page(request, form=WebhookEndpointForm(), secret=secret, new_endpoint=endpoint)


def _detail_page(request, endpoint, *, form=None, secret=None, status=200):
    form = form or WebhookEndpointForm(
        initial={
            "url": endpoint.url,
            "description": endpoint.description,
            "events": endpoint.events,
            "is_active": endpoint.is_active,
        }
    )
    context = {
        "endpoint": endpoint,
        "form": form,
        "secret": secret,
        "deliveries": selectors.deliveries_for(endpoint=endpoint)[:DELIVERIES_SHOWN],
    }
    return render(request, "web/webhook_detail.html", context, status=status)


@login_required
def webhook_detail(request, endpoint_id: int):
    endpoint = _endpoint(request, endpoint_id)
    if request.method != "POST":
        return _detail_page(request, endpoint)
    form = WebhookEndpointForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, endpoint, form=form, status=400)
    try:
        services.update_endpoint(endpoint=endpoint, actor=request.user, **form.cleaned_data)
    except DomainError as error:
        _refused(form, error)
        return _detail_page(request, endpoint, form=form, status=400)
    messages.success(request, _("Endpoint saved."))
    return redirect("web:webhook_detail", endpoint_id=endpoint.pk)


@login_required
@require_POST
def webhook_rotate(request, endpoint_id: int):
    """A new secret, shown in this one response."""
    endpoint = _endpoint(request, endpoint_id)
    secret = services.rotate_secret(endpoint=endpoint, actor=request.user)
    return _detail_page(request, endpoint, secret=secret)


@login_required
@require_POST
def webhook_delete(request, endpoint_id: int):
    endpoint = _endpoint(request, endpoint_id)
    services.delete_endpoint(endpoint=endpoint, actor=request.user)
    messages.success(request, _("The endpoint %(url)s was deleted.") % {"url": endpoint.url})
    return redirect("web:webhooks")


@login_required
@require_POST
def webhook_resend(request, endpoint_id: int, delivery_id: int):
    endpoint = _endpoint(request, endpoint_id)
    try:
        delivery = selectors.access_delivery(endpoint=endpoint, delivery_id=delivery_id)
        services.resend(delivery=delivery, actor=request.user)
    except selectors.NotFound:
        raise Http404 from None
    except DomainError as error:
        messages.error(request, describe_error(error).text)
    else:
        messages.success(request, _("The event was sent again."))
    return redirect("web:webhook_detail", endpoint_id=endpoint.pk)
