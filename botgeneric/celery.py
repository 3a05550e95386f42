"""The Celery application: `celery -A botgeneric worker` / `beat` (`make worker`, `make beat`).

Configuration comes from Django settings named CELERY_*. With CELERY_BROKER_URL empty the app runs
every task inline (CELERY_TASK_ALWAYS_EAGER), so a worker or beat has nothing to do and refuses to start.

Metrics: every task run is counted by its final state (inline runs too). A worker keeps its pool's
metric files in a directory of its own (botgeneric.metrics_processes) and, when METRICS_TOKEN is set,
serves their sum at http://CELERY_METRICS_HOST:CELERY_METRICS_PORT/metrics (0 = not served).
"""

import os
import sys
from pathlib import Path

from celery import Celery, signals

from botgeneric import metrics_processes

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "botgeneric.settings.base")


def _starting_a_worker() -> bool:
    """`celery -A botgeneric worker` (or `python -m celery ...`): this import is the first thing it does,
    before the tasks (and prometheus_client) are loaded and before the pool's processes are started."""
    program = Path(sys.argv[0]) if sys.argv else Path()
    return "worker" in sys.argv[1:] and "celery" in (program.name, program.parent.name)


if _starting_a_worker():
    metrics_processes.prepare_directory("worker")

app = Celery("botgeneric")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.setup_logging.connect
def use_the_project_logging(loglevel=None, **kwargs) -> None:
    """The LOGGING setting (JSON lines with the task id in production) instead of Celery's own format, at
    the command's --loglevel."""
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    if loglevel:
        logging.getLogger().setLevel(loglevel)


@signals.worker_init.connect
@signals.beat_init.connect
def refuse_to_start_without_a_broker(**kwargs) -> None:
    from django.conf import settings

    if not settings.CELERY_BROKER_URL:
        # SystemExit, not an exception: Celery logs and ignores exceptions raised by signal handlers.
        raise SystemExit(
            "CELERY_BROKER_URL is not set: tasks run inline in the app, a worker or beat would receive nothing."
        )


@signals.worker_ready.connect
def serve_metrics(**kwargs) -> None:
    from django.conf import settings

    if settings.METRICS_TOKEN and settings.CELERY_METRICS_PORT:
        metrics_processes.serve(settings.CELERY_METRICS_HOST, settings.CELERY_METRICS_PORT)


@signals.worker_shutdown.connect
def remove_metrics_directory(**kwargs) -> None:
    metrics_processes.remove_directory()


@signals.worker_process_shutdown.connect
def metrics_process_exited(pid=None, **kwargs) -> None:
    metrics_processes.process_exited(pid or os.getpid())


@signals.task_postrun.connect
def count_task_run(task=None, state=None, **kwargs) -> None:
    from botgeneric.metrics import TASK_RUNS

    TASK_RUNS.labels(task.name, (state or "unknown").lower()).inc()
