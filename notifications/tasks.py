"""Notification tasks (Celery): delivering one notice, and the periodic look-outs. The schedule is
CELERY_BEAT_SCHEDULE."""

from celery import shared_task

from background.task_base import BackgroundTask
from notifications import services, triggers


@shared_task(base=BackgroundTask, name="notifications.deliver")
def deliver_notification(*, notification_id: int) -> list[str]:
    """Send one recorded notice; a failure is retried with backoff (only the channels it has not reached)."""
    return services.deliver(notification_id=notification_id)


@shared_task(base=BackgroundTask, name="notifications.trials_ending", autoretry_for=(), dead_letters=False)
def trials_ending() -> int:
    """Every hour: tell the accounts whose trial ends within three days (once per trial)."""
    return triggers.announce_trials_ending()


@shared_task(base=BackgroundTask, name="notifications.daily_summary", autoretry_for=(), dead_letters=False)
def daily_summary() -> int:
    """Every morning: yesterday's figures to the operators who asked for them (once per day)."""
    return triggers.send_daily_summary()
