"""Issue 17 item 3: every worker of a server reports the same figures (prometheus_client's multiprocess
mode, set up by gunicorn.conf.py), and each server counts its own.

Real gunicorn servers with ASGI workers, as `make run` serves: requests are spread over the workers of
one server until both have counted some, then every scrape, whichever worker answers it, must report the
total of all of them.
"""

import re

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from testing.app_servers import start_app_servers, stop_app_servers

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.app_servers]

TOKEN = "metrics-processes-token-0123456789"
REJECTED = ("botgeneric_webhook_events_total", {"provider": "paddle", "outcome": "rejected"})


def rejected_webhooks(url: str) -> float:
    """The count of rejected Paddle webhooks in one scrape (a new connection: any worker may answer)."""
    response = requests.get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert response.status_code == 200
    name, labels = REJECTED
    samples = [s for f in text_string_to_metric_families(response.text) for s in f.samples if s.name == name]
    return sum(sample.value for sample in samples if sample.labels == labels)


def counting_processes(directory) -> set[str]:
    return {match[1] for path in directory.iterdir() if (match := re.fullmatch(r"counter_(\d+)\.db", path.name))}


def test_all_workers_of_a_server_report_the_same_figures_and_each_server_its_own(django_db_blocker, tmp_path):
    with django_db_blocker.unblock():
        [two_workers] = start_app_servers(
            1, {"METRICS_TOKEN": TOKEN, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}, workers=2
        )
        try:
            [other_server] = start_app_servers(1, {"METRICS_TOKEN": TOKEN})
        except BaseException:
            stop_app_servers([two_workers])
            raise
    url = two_workers[1]
    try:
        sent = 0
        # Paddle is not configured on these servers: each webhook is rejected (404) and counted.
        while len(counting_processes(tmp_path)) < 2 and sent < 200:
            response = requests.post(f"{url}/api/v1/billing/webhooks/paddle", json={}, timeout=10)
            assert response.status_code == 404
            sent += 1
        assert len(counting_processes(tmp_path)) == 2, f"one worker answered all {sent} requests"

        scrapes = [rejected_webhooks(url) for _ in range(10)]
        assert scrapes == [sent] * 10
        assert rejected_webhooks(other_server[1]) == 0
    finally:
        stop_app_servers([two_workers, other_server])
