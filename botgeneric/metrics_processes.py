"""Multiprocess metrics for a server of several processes: gunicorn.conf.py and the Celery worker.

prometheus_client chooses its storage when it is first imported: per-process files in
PROMETHEUS_MULTIPROC_DIR if that variable is set, else memory. So the server's first process (gunicorn's
master, the Celery worker's main process) calls `prepare_directory()` before anything imports
prometheus_client; the processes it then starts inherit the variable. This module imports
prometheus_client only inside the functions that run after that.
"""

import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path

logger = logging.getLogger(__name__)

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


_made_here: set[str] = set()


def prepare_directory(prefix: str) -> str:
    """This server's metric files directory, emptied: PROMETHEUS_MULTIPROC_DIR if set (one per server:
    what is in it is deleted), else a new temporary one. Sets the variable for the processes to come."""
    directory = os.environ.get(VARIABLE)
    if not directory:
        directory = tempfile.mkdtemp(prefix=f"botgeneric-{prefix}-metrics-")
        _made_here.add(directory)
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    for leftover in path.glob("*.db"):
        leftover.unlink()
    os.environ[VARIABLE] = directory
    return directory


def remove_directory() -> None:
    """At the server's exit: the temporary directory `prepare_directory` made, if it made one."""
    while _made_here:
        shutil.rmtree(_made_here.pop(), ignore_errors=True)


def process_exited(pid: int) -> None:
    """A worker process ended: its live gauges no longer count (its counters and histograms still do)."""
    if os.environ.get(VARIABLE):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


def serve(host: str, port: int) -> None:
    """Serve GET /metrics (the same bearer-token check as the web endpoint, 404 otherwise) on a thread of
    this process: the Celery worker's main process, which sums what its pool's processes wrote."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from prometheus_client import make_wsgi_app

    from botgeneric.metrics import authorized, registry

    exposition = make_wsgi_app(registry())

    def application(environ, start_response):
        if environ.get("PATH_INFO") != "/metrics" or not authorized(environ.get("HTTP_AUTHORIZATION", "")):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"Not Found"]
        return exposition(environ, start_response)

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format, *args):  # noqa: A002 — the base class's signature
            pass

    server = make_server(host, port, application, handler_class=QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    logger.info("worker metrics on http://%s:%s/metrics", host, server.server_port)
