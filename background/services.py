"""Writes for background tasks: dead letters, and running one again."""

import logging

from celery import current_app
from django.db import transaction
from django.utils import timezone

from background.models import DeadLetter
from background.queue import enqueue_on_commit
from tenants.services import record_audit

logger = logging.getLogger(__name__)


def record_dead_letter(
    *, task_name: str, task_id: str, kwargs: dict, attempts: int, error: str, traceback: str
) -> DeadLetter:
    """Keep a task that gave up, with what it was called with and why it failed."""
    return DeadLetter.objects.create(
        task_name=task_name,
        task_id=task_id[:64],
        kwargs=kwargs,
        attempts=attempts,
        error=error[:2000],
        traceback=traceback[-20000:],
    )


def run_again(*, dead_letter: DeadLetter, actor) -> DeadLetter:
    """Queue the task again with its arguments (a fresh round of retries); the row records when and who."""
    with transaction.atomic():
        dead_letter = DeadLetter.objects.select_for_update().get(pk=dead_letter.pk)
        dead_letter.requeued_at = timezone.now()
        dead_letter.save(update_fields=["requeued_at"])
        record_audit(
            action="task.requeued",
            target=dead_letter,
            actor=actor,
            after={"task": dead_letter.task_name, "kwargs": dead_letter.kwargs},
        )
        current_app.loader.import_default_modules()  # every app's tasks module, as a worker loads them
        enqueue_on_commit(current_app.tasks[dead_letter.task_name], **dead_letter.kwargs)
    logger.info("dead letter %s (%s) queued again", dead_letter.pk, dead_letter.task_name)
    return dead_letter
