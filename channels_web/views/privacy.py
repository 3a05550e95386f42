"""The owner's "Your data" page: exports of the organization's data, and deleting or restoring it."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from accounts.deletion import CONFIRMATION_WORD, delete_account
from botgeneric.errors import ApiErrorCode, DomainError
from channels_web.messages import describe_error
from privacy.deletion import restore_organization, schedule_deletion
from privacy.models import ExportStatus
from privacy.selectors import check_owner, downloadable_export, export_path, exports_for
from privacy.services import export_storage, record_download, request_export

EXPORTS_SHOWN = 20


class DeleteOrganizationForm(forms.Form):
    confirm = forms.CharField(label=_lazy("Organization name"), max_length=200)


class DeleteAccountForm(forms.Form):
    password = forms.CharField(label=_lazy("Current password"), widget=forms.PasswordInput, required=False)
    confirm = forms.CharField(label=_lazy("Type DELETE to confirm"), max_length=20, required=False)


def _owner(request):
    try:
        check_owner(user=request.user)
    except DomainError:
        raise PermissionDenied from None
    return request.user.organization


@login_required
def your_data(request):
    organization = _owner(request)
    exports = [
        (export, export_path(export) if export.status == ExportStatus.READY else "")
        for export in exports_for(user=request.user)[:EXPORTS_SHOWN]
    ]
    context = {
        "organization": organization,
        "exports": exports,
        "export_days": settings.EXPORT_LINK_DAYS,
        "grace_days": settings.ORGANIZATION_DELETION_GRACE_DAYS,
    }
    return render(request, "web/your_data.html", context)


@login_required
@require_POST
def export_request(request):
    _owner(request)
    try:
        request_export(user=request.user)
    except DomainError as exc:
        messages.error(request, describe_error(exc).text)
    else:
        messages.success(request, _("Your export is being prepared. We will e-mail you a link when it is ready."))
    return redirect("web:your_data")


@login_required
def export_download(request, export_id: int):
    """The e-mailed link: the signed-in owner of the export's organization, with the link's token."""
    _owner(request)
    try:
        export = downloadable_export(user=request.user, export_id=export_id, token=request.GET.get("token", ""))
    except DomainError as exc:
        if exc.code == ApiErrorCode.NOT_FOUND:
            raise Http404 from None
        return render(request, "web/export_expired.html", {"message": describe_error(exc).text}, status=410)
    record_download(export=export, user=request.user)
    response = FileResponse(
        export_storage().open(export.file, "rb"),
        as_attachment=True,
        filename=f"{export.organization.slug}-export-{export.pk}.zip",
        content_type="application/zip",
    )
    response["Cache-Control"] = "private, no-store"
    return response


def _form_errors(form: forms.Form, error: DomainError) -> None:
    """Put a service's refusal on the form: per field when it names them, else on the form."""
    fields = error.extra.get("fields") or {}
    for name, reasons in fields.items():
        form.add_error(name if name in form.fields else None, " ".join(reasons))
    if not fields:
        form.add_error(None, describe_error(error).text)


@login_required
def organization_delete(request):
    """Confirm with the organization's name; it is then pending deletion for the grace period."""
    organization = _owner(request)
    form = DeleteOrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organization = schedule_deletion(user=request.user, confirm=form.cleaned_data["confirm"])
        except DomainError as exc:
            _form_errors(form, exc)
        else:
            messages.warning(
                request,
                _("%(organization)s will be deleted on %(date)s. You can restore it until then.")
                % {"organization": organization.name, "date": organization.deletion_due_at.strftime("%Y-%m-%d")},
            )
            return redirect("web:your_data")
    context = {"organization": organization, "form": form, "grace_days": settings.ORGANIZATION_DELETION_GRACE_DAYS}
    return render(request, "web/delete_organization.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def organization_restore(request):
    _owner(request)
    try:
        restore_organization(user=request.user)
    except DomainError as exc:
        messages.error(request, describe_error(exc).text)
    else:
        messages.success(
            request, _("The organization was restored. Its subscription is set to end: resume it on the billing page.")
        )
    return redirect("web:your_data")


@login_required
def account_delete(request):
    """Re-enter the password (or type DELETE without one); the account's personal data is erased."""
    form = DeleteAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            delete_account(user=request.user, **form.cleaned_data)
        except DomainError as exc:
            _form_errors(form, exc)
        else:
            logout(request)
            messages.success(request, _("Your account was deleted."))
            return redirect("web:home")
    context = {"form": form, "confirmation_word": CONFIRMATION_WORD}
    return render(request, "web/delete_account.html", context, status=400 if form.errors else 200)
