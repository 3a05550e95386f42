"""Privacy's background tasks (Celery): thin, idempotent, ids in. `privacy.tick` is in CELERY_BEAT_SCHEDULE."""

import logging

from celery import shared_task

from background.queue import enqueue
from background.task_base import BackgroundTask
from privacy import deletion, services

logger = logging.getLogger(__name__)


@shared_task(base=BackgroundTask, name="privacy.build_export")
def build_export(*, export_pk: int) -> None:
    """Prepare one export's ZIP and mail its link; a finished export is left alone."""
    services.build_export(export_pk=export_pk)


@shared_task(base=BackgroundTask, name="privacy.erase_organization")
def erase_organization(*, organization_id: int) -> None:
    """Erase one organization whose deletion is due; one restored or erased meanwhile is left alone."""
    deletion.erase_organization(organization_id=organization_id)


@shared_task(base=BackgroundTask, name="privacy.tick", autoretry_for=(), dead_letters=False)
def tick() -> dict:
    """Every fifteen minutes: delete expired export files, and queue the erasure of each organization whose
    grace period is over (one that failed is found again by the next tick)."""
    due = deletion.organizations_due()
    for organization_id in due:
        enqueue(erase_organization, organization_id=organization_id)
    result = {"exports_expired": services.expire_exports(), "organizations_due": len(due)}
    logger.info("privacy tick: %s", result)
    return result
