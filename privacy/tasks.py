"""Privacy's background tasks (Celery): thin, idempotent, ids in. `privacy.tick` is in CELERY_BEAT_SCHEDULE."""

import logging

from celery import shared_task

from background.task_base import BackgroundTask
from privacy import services

logger = logging.getLogger(__name__)


@shared_task(base=BackgroundTask, name="privacy.build_export")
def build_export(*, export_pk: int) -> None:
    """Prepare one export's ZIP and mail its link; a finished export is left alone."""
    services.build_export(export_pk=export_pk)


@shared_task(base=BackgroundTask, name="privacy.tick", autoretry_for=(), dead_letters=False)
def tick() -> dict:
    """Every fifteen minutes: delete expired export files."""
    result = {"exports_expired": services.expire_exports()}
    logger.info("privacy tick: %s", result)
    return result
