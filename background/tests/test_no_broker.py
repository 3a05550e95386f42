"""Issue 16 item 1: with no broker configured tasks run inline, so a worker would receive nothing:
`make worker` refuses to start instead of waiting on a default broker."""

import os
import subprocess
import sys

from testing.app_servers import ROOT


def test_a_worker_without_a_broker_refuses_to_start():
    environment = {key: value for key, value in os.environ.items() if key != "CELERY_BROKER_URL"}
    environment["DJANGO_SETTINGS_MODULE"] = "botgeneric.settings.test"
    worker = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "botgeneric", "worker", "--pool", "solo"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert worker.returncode == 1
    assert "CELERY_BROKER_URL is not set" in worker.stderr
