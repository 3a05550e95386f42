"""Writes for data exports (GDPR / 152-FZ): requested by an owner, prepared by a task, e-mailed as a link
that expires with the file."""

import logging
import secrets
import tempfile
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files import File
from django.core.files.storage import storages
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from background.queue import enqueue_on_commit
from botgeneric.errors import ApiErrorCode, DomainError
from privacy.archive import write_archive
from privacy.errors import PrivacyErrorCode
from privacy.models import IN_PROGRESS, ExportStatus, OrganizationExport
from privacy.selectors import check_owner, export_link
from tenants.models import Organization
from tenants.services import record_audit

logger = logging.getLogger(__name__)

# An export neither finished nor failed this long after it started (its worker died) is marked failed.
STALE_EXPORT = timedelta(hours=2)


def export_storage():
    return storages["exports"]


def request_export(*, user, now: datetime | None = None) -> OrganizationExport:
    """Queue an export of the owner's organization: one at a time (409 export_in_progress), and at most one
    every EXPORT_MIN_INTERVAL_MINUTES (429 throttled): each reads the whole organization."""
    check_owner(user=user)
    now = now or timezone.now()
    try:
        with transaction.atomic():
            # The organization's row serializes its owners' requests, so the interval holds under concurrency.
            Organization.objects.select_for_update().filter(pk=user.organization_id).first()
            _check_interval(organization_id=user.organization_id, now=now)
            export = OrganizationExport.objects.create(organization_id=user.organization_id, requested_by=user)
            record_audit(action="export.requested", target=export, organization=user.organization, actor=user)
            from privacy.tasks import build_export  # the tasks module imports this one

            enqueue_on_commit(build_export, export_pk=export.pk)
    except IntegrityError:
        raise DomainError(
            PrivacyErrorCode.EXPORT_IN_PROGRESS,
            "An export of this organization is already being prepared; you will get an e-mail when it is ready.",
            409,
        ) from None
    return export


def _check_interval(*, organization_id: int, now: datetime) -> None:
    interval = timedelta(minutes=settings.EXPORT_MIN_INTERVAL_MINUTES)
    last = (
        OrganizationExport.objects.filter(
            organization_id=organization_id, created_at__gt=now - interval, status=ExportStatus.READY
        )
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if last is not None:
        wait = max(1, int((last + interval - now).total_seconds()))
        raise DomainError(
            ApiErrorCode.THROTTLED,
            f"An export was requested moments ago; you can ask for another in {wait // 60 + 1} minutes.",
            429,
            {"retry_after": wait},
        )


def build_export(*, export_pk: int, now: datetime | None = None) -> OrganizationExport | None:
    """Write the ZIP (streamed into a temporary file, then into the exports storage), mark the export
    ready and mail the owner its link. Safe to run twice: a finished export is left as it is."""
    now = now or timezone.now()
    started = OrganizationExport.objects.filter(pk=export_pk, status__in=IN_PROGRESS).update(
        status=ExportStatus.RUNNING, started_at=now
    )
    if not started:
        return None
    export = OrganizationExport.objects.select_related("organization", "requested_by").get(pk=export_pk)
    storage = export_storage()
    name = f"org-{export.organization_id}/export-{export.pk}-{secrets.token_hex(8)}.zip"
    try:
        with tempfile.TemporaryFile() as scratch:
            write_archive(organization=export.organization, target=scratch)
            size = scratch.tell()
            scratch.seek(0)
            name = storage.save(name, File(scratch, name=name))
    except Exception as error:
        # Recorded, so the owner can ask again at once; the task's failure handling logs the cause.
        _fail(export, reason=type(error).__name__, actor_label="privacy.build_export")
        raise
    with transaction.atomic():
        finished = timezone.now()
        updated = OrganizationExport.objects.filter(pk=export.pk, status=ExportStatus.RUNNING).update(
            status=ExportStatus.READY,
            file=name,
            size=size,
            finished_at=finished,
            expires_at=finished + timedelta(days=settings.EXPORT_LINK_DAYS),
        )
        if not updated:  # failed as stale meanwhile: this file is nobody's
            transaction.on_commit(lambda: storage.delete(name))
            return None
        export.refresh_from_db()
        record_audit(
            action="export.ready",
            target=export,
            organization=export.organization,
            actor_label="privacy.build_export",
            after={"size": size, "expires_at": export.expires_at.isoformat()},
        )
        transaction.on_commit(lambda: _mail_export_link(export))
    return export


def _mail_export_link(export: OrganizationExport) -> None:
    owner = export.requested_by
    if owner is None or not owner.email:
        return
    with translation.override(owner.locale or settings.LANGUAGE_CODE):
        subject = _("Your data export is ready")
        body = _(
            "The export of %(organization)s is ready. Download it while signed in as the owner:\n\n%(link)s\n\n"
            "The link and the file expire on %(expires)s (UTC)."
        ) % {
            "organization": export.organization.name,
            "link": export_link(export),
            "expires": export.expires_at.strftime("%Y-%m-%d %H:%M"),
        }
    try:
        send_mail(subject, body, None, [owner.email])
    except OSError:
        logger.exception("export e-mail not sent", extra={"export_id": export.pk})


def _fail(export: OrganizationExport, *, reason: str, actor_label: str) -> None:
    with transaction.atomic():
        if OrganizationExport.objects.filter(pk=export.pk, status__in=IN_PROGRESS).update(
            status=ExportStatus.FAILED, finished_at=timezone.now()
        ):
            record_audit(
                action="export.failed",
                target=export,
                organization=export.organization,
                actor_label=actor_label,
                after={"reason": reason},
            )


def record_download(*, export: OrganizationExport, user) -> None:
    """Who took a copy of the organization's data, and when."""
    record_audit(action="export.downloaded", target=export, organization=export.organization, actor=user)


def expire_exports(*, now: datetime | None = None) -> int:
    """Delete the files of exports past their expiry, and fail exports whose worker died; returns how many."""
    now = now or timezone.now()
    stale = OrganizationExport.objects.filter(status__in=IN_PROGRESS, created_at__lt=now - STALE_EXPORT)
    for export in stale.select_related("organization").order_by("pk"):
        _fail(export, reason="stale", actor_label="privacy.tick")
    expired = 0
    storage = export_storage()
    due = OrganizationExport.objects.filter(status=ExportStatus.READY, expires_at__lte=now).select_related(
        "organization"
    )
    for export in due.order_by("pk"):
        with transaction.atomic():
            if not OrganizationExport.objects.filter(pk=export.pk, status=ExportStatus.READY).update(
                status=ExportStatus.EXPIRED, file=""
            ):
                continue
            record_audit(
                action="export.expired", target=export, organization=export.organization, actor_label="privacy.tick"
            )
            transaction.on_commit(lambda name=export.file: storage.delete(name))
        expired += 1
    return expired


def delete_export_files(*, organization: Organization) -> None:
    """Remove the organization's export rows, and their files once the caller's transaction commits."""
    names = [name for name in organization.exports.values_list("file", flat=True) if name]
    organization.exports.all().delete()
    transaction.on_commit(lambda: _delete_files(names))


def _delete_files(names: list[str]) -> None:
    storage = export_storage()
    for name in names:
        storage.delete(name)
