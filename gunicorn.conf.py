"""gunicorn's settings file, read from the working directory by every `gunicorn` the project runs
(`make run`, the Dockerfile, docker-compose, the tests' app servers); command-line options still apply.

Metrics: the master gives this server a directory of its own for the workers' metric files, emptied at
start (PROMETHEUS_MULTIPROC_DIR, else a temporary one removed at exit), so that /metrics sums every
worker of this server and starts from zero with it (botgeneric.metrics_processes).
"""

from botgeneric import metrics_processes


def on_starting(server):
    metrics_processes.prepare_directory("web")


def child_exit(server, worker):
    metrics_processes.process_exited(worker.pid)


def on_exit(server):
    metrics_processes.remove_directory()
