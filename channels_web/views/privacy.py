"""The owner's "Your data" page: exports of the organization's data, and deleting or restoring it."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from botgeneric.errors import ApiErrorCode, DomainError
from channels_web.messages import describe_error
from privacy.models import ExportStatus
from privacy.selectors import check_owner, downloadable_export, export_path, exports_for
from privacy.services import export_storage, request_export

EXPORTS_SHOWN = 20


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
    context = {"organization": organization, "exports": exports, "export_days": settings.EXPORT_LINK_DAYS}
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
    response = FileResponse(
        export_storage().open(export.file, "rb"),
        as_attachment=True,
        filename=f"{export.organization.slug}-export-{export.pk}.zip",
        content_type="application/zip",
    )
    response["Cache-Control"] = "private, no-store"
    return response
