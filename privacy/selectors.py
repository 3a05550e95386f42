"""Reads for data exports, scoped to the caller's organization, and the signed links to their files."""

from django.conf import settings
from django.core import signing
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from botgeneric.errors import ApiErrorCode, DomainError
from privacy.errors import PrivacyErrorCode
from privacy.models import ExportStatus, OrganizationExport
from tenants.errors import TenantErrorCode
from tenants.models import Role

LINK_SALT = "privacy.export-link"


def check_owner(*, user) -> None:
    """Exports and deletion are the organization owner's alone (403 forbidden_role otherwise)."""
    if not user.organization_id or user.role != Role.OWNER:
        raise DomainError(
            TenantErrorCode.FORBIDDEN_ROLE, "Only the organization's owner can export or delete its data.", 403
        )


def exports_for(*, user) -> QuerySet[OrganizationExport]:
    """The owner's organization's exports, newest first."""
    check_owner(user=user)
    return (
        OrganizationExport.objects.filter(organization_id=user.organization_id)
        .select_related("requested_by")
        .order_by("-created_at", "-id")
    )


def access_export(*, user, export_id: int) -> OrganizationExport:
    """The export if it is of the owner's organization; 404 otherwise, never 403."""
    export = exports_for(user=user).filter(pk=export_id).first()
    if export is None:
        raise DomainError(ApiErrorCode.NOT_FOUND, "Export not found.", 404)
    return export


def link_token(export: OrganizationExport) -> str:
    return signing.dumps({"export": export.pk, "organization": export.organization_id}, salt=LINK_SALT)


def export_path(export: OrganizationExport) -> str:
    """The dashboard's download page of `export`, with its signed token."""
    return f"{reverse('web:export_download', kwargs={'export_id': export.pk})}?token={link_token(export)}"


def export_link(export: OrganizationExport) -> str:
    """The absolute URL mailed to the owner (the download page needs the owner signed in, too)."""
    scheme = "https" if settings.HTTPS_ONLY else "http"
    return f"{scheme}://{settings.SITE_DOMAIN}{export_path(export)}"


def downloadable_export(*, user, export_id: int, token: str) -> OrganizationExport:
    """The export a signed-in owner may download with `token`: of their organization (404 otherwise, also
    for a token of another export or organization), not expired (410 export_expired)."""
    export = access_export(user=user, export_id=export_id)
    try:
        claims = signing.loads(token, salt=LINK_SALT, max_age=settings.EXPORT_LINK_DAYS * 86400)
    except signing.SignatureExpired:
        raise DomainError(PrivacyErrorCode.EXPORT_EXPIRED, "This download link has expired.", 410) from None
    except signing.BadSignature:
        raise DomainError(ApiErrorCode.NOT_FOUND, "Export not found.", 404) from None
    if claims != {"export": export.pk, "organization": user.organization_id}:
        raise DomainError(ApiErrorCode.NOT_FOUND, "Export not found.", 404)
    if export.status == ExportStatus.EXPIRED or (export.expires_at and export.expires_at <= timezone.now()):
        raise DomainError(PrivacyErrorCode.EXPORT_EXPIRED, "This export has expired; request a new one.", 410)
    if export.status != ExportStatus.READY:
        raise DomainError(ApiErrorCode.NOT_FOUND, "This export is not ready yet.", 404)
    return export
