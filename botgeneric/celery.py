"""The Celery application: `celery -A botgeneric worker` / `beat` (`make worker`, `make beat`).

Configuration comes from Django settings named CELERY_*. With CELERY_BROKER_URL empty the app runs
every task inline (CELERY_TASK_ALWAYS_EAGER), so a worker or beat has nothing to do and refuses to start.
"""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "botgeneric.settings.base")

app = Celery("botgeneric")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
@signals.beat_init.connect
def refuse_to_start_without_a_broker(**kwargs) -> None:
    from django.conf import settings

    if not settings.CELERY_BROKER_URL:
        # SystemExit, not an exception: Celery logs and ignores exceptions raised by signal handlers.
        raise SystemExit(
            "CELERY_BROKER_URL is not set: tasks run inline in the app, a worker or beat would receive nothing."
        )
