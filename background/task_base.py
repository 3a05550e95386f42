"""The base class of every task: thin, idempotent, retried with exponential backoff, dead-lettered.

A task takes ids, loads fresh rows and calls one service, so running it twice is safe (the broker
delivers at least once: `acks_late`, and a task whose worker died is delivered again). An exception
is retried `TASK_MAX_RETRIES` times, `TASK_RETRY_BACKOFF_SECONDS` × 2ⁿ apart (at most
`TASK_RETRY_BACKOFF_MAX_SECONDS`, with full jitter unless `TASK_RETRY_JITTER=0`); then the task is
written to `background.DeadLetter`. With no broker (tasks run inline) nothing could run it later, so
its first failure is final and dead-lettered at once.
"""

import logging

from celery import Task
from django.conf import settings

from background.services import record_dead_letter

logger = logging.getLogger(__name__)


class BackgroundTask(Task):
    autoretry_for = (Exception,)
    max_retries = settings.TASK_MAX_RETRIES
    retry_backoff = settings.TASK_RETRY_BACKOFF_SECONDS
    retry_backoff_max = settings.TASK_RETRY_BACKOFF_MAX_SECONDS
    retry_jitter = settings.TASK_RETRY_JITTER
    acks_late = True
    reject_on_worker_lost = True
    #: Periodic tasks set this False: their next scheduled run is their retry, not an operator's job.
    dead_letters = True

    def retry(self, *args, exc=None, **kwargs):
        if self.request.is_eager and exc is not None:
            raise exc  # inline: Celery would re-run it at once, ignoring the backoff
        return super().retry(*args, exc=exc, **kwargs)

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        logger.error("task %s[%s] gave up after %s attempt(s)", self.name, task_id, self.request.retries + 1)
        if self.dead_letters:
            record_dead_letter(
                task_name=self.name,
                task_id=task_id or "",
                kwargs=kwargs or {},
                attempts=self.request.retries + 1,
                error=f"{type(exc).__name__}: {exc}",
                traceback=str(einfo),
            )
