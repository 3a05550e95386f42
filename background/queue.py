"""Putting tasks on the queue. With no broker (CELERY_BROKER_URL empty) Celery runs them inline."""

import logging
from functools import partial

from celery import Task
from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


def enqueue_on_commit(task: Task, **kwargs) -> None:
    """Queue `task(**kwargs)` once the current transaction commits (at once outside one), so a
    rolled-back write never starts its side effects."""
    transaction.on_commit(partial(enqueue, task, **kwargs))


def enqueue(task: Task, **kwargs) -> bool:
    """Queue `task(**kwargs)` now; the caller's writes must be committed already. False when the broker
    could not be reached: the caller's own rows must let a periodic task find the work again."""
    try:
        task.apply_async(kwargs=kwargs)
    except OperationalError:
        logger.error("broker unreachable: %s%s not queued", task.name, kwargs, exc_info=True)
        return False
    return True
