"""Usage's background tasks (Celery). The schedule is CELERY_BEAT_SCHEDULE."""

from celery import shared_task

from background.task_base import BackgroundTask
from usage.rollups import roll_up


@shared_task(base=BackgroundTask, name="usage.roll_up_daily", autoretry_for=(), dead_letters=False)
def roll_up_daily() -> int:
    """Every minute: add the new usage events into the daily roll-up (idempotent; its watermark is an id)."""
    return roll_up().rows
