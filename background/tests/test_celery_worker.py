"""Issue 16 item 1: a real Celery worker process on RabbitMQ processes a stored webhook event, and
retries a failing task with exponential backoff before dead-lettering it. Issue 17 item 3: it serves the
metrics of the tasks it ran.

The worker (`celery -A botgeneric worker`, as `make worker` starts it) runs on the test database and a
queue of its own on the RabbitMQ of CELERY_TEST_BROKER_URL (default: the local one, as CI has).
"""

import json
import os
import subprocess
import sys
import uuid
from decimal import Decimal

import kombu.pools
import pytest
import requests
from django.core.mail import send_mail
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from background.models import DeadLetter
from billing.models import AccountStatus, PlanPrice, WebhookEvent, WebhookOutcome
from billing.tests.account_factories import BillingAccountFactory, make_plan
from billing.tests.paddle_signing import notification, paddle_signature
from botgeneric.celery import app as celery_app
from testing.app_servers import ROOT, database_url, free_port
from testing.fakes.paddle_api import paddle_price
from testing.fakes.smtp_server import FakeSMTP
from testing.polling import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.broker]

BROKER_URL = os.environ.get("CELERY_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
PADDLE_SECRET = "pdl_ntfset_worker_test_secret_0123456789"
# The worker may still be starting on a loaded machine.
WORKER_TIMEOUT = 90
MAX_RETRIES, BACKOFF_SECONDS = 3, 1
METRICS_TOKEN, METRICS_PORT = "worker-metrics-token-0123456789", free_port()


@pytest.fixture(scope="module")
def smtp():
    server = FakeSMTP().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker, smtp):
    """One worker process for the module, on a queue no other test run shares; this process sends to it."""
    queue = f"botgeneric-test-{uuid.uuid4().hex[:12]}"
    environment = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "OPENAI_API_KEY")}
    with django_db_blocker.unblock():
        environment.update(DJANGO_SETTINGS_MODULE="botgeneric.settings.test", DATABASE_URL=database_url())
    environment.update(
        CELERY_BROKER_URL=BROKER_URL,
        CELERY_QUEUE=queue,
        CONN_MAX_AGE="0",
        TASK_MAX_RETRIES=str(MAX_RETRIES),
        TASK_RETRY_BACKOFF_SECONDS=str(BACKOFF_SECONDS),
        TASK_RETRY_JITTER="0",
        EMAIL_URL=smtp.url,
        PADDLE_API_KEY="pdl_sdbx_apikey_worker_test",
        PADDLE_WEBHOOK_SECRET=PADDLE_SECRET,
        METRICS_TOKEN=METRICS_TOKEN,
        CELERY_METRICS_HOST="127.0.0.1",
        CELERY_METRICS_PORT=str(METRICS_PORT),
    )
    command = [sys.executable, "-m", "celery", "-A", "botgeneric", "worker", "--pool", "solo", "--loglevel", "WARNING"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    process = subprocess.Popen(command, cwd=ROOT, env=environment)
    conf = celery_app.conf
    saved = (conf.task_always_eager, conf.broker_url, conf.task_default_queue)
    conf.task_always_eager, conf.broker_url, conf.task_default_queue = False, BROKER_URL, queue
    yield process
    conf.task_always_eager, conf.broker_url, conf.task_default_queue = saved
    process.terminate()
    process.wait(timeout=30)
    with celery_app.connection_for_write(BROKER_URL) as connection:
        connection.default_channel.queue_delete(queue)
    # Close this module's broker connections; the inline mode of later tests builds fresh pools.
    kombu.pools.reset()
    celery_app._pool = celery_app.amqp._producer_pool = None


def test_a_webhook_stored_by_the_view_is_processed_by_the_worker(worker, settings):
    settings.PADDLE_API_KEY, settings.PADDLE_WEBHOOK_SECRET = "pdl_sdbx_apikey_worker_test", [PADDLE_SECRET]
    plan = make_plan("monthly", prices={"USD": "19.99"})
    price = PlanPrice.objects.get(plan=plan)
    account = BillingAccountFactory(plan=plan, status=AccountStatus.TRIALING)
    payload = notification(
        "transaction.completed",
        {
            "id": f"txn_{uuid.uuid4().hex[:26]}",
            "status": "completed",
            "currency_code": "USD",
            "subscription_id": "sub_worker_01",
            "custom_data": {"organization_id": str(account.organization_id), "plan": "monthly"},
            "items": [{"price": paddle_price(price.provider_ref, str(int(price.amount * 100)), "USD"), "quantity": 1}],
        },
    )
    body = json.dumps(payload).encode()

    response = Client().post(
        "/api/v1/billing/webhooks/paddle",
        data=body,
        content_type="application/json",
        headers={"Paddle-Signature": paddle_signature(body, PADDLE_SECRET)},
    )

    assert response.status_code == 200
    assert response.json()["outcome"] == "received"  # stored and queued; the worker applies it
    event = wait_for(
        lambda: WebhookEvent.objects.filter(event_id=payload["event_id"], outcome=WebhookOutcome.PROCESSED).first(),
        timeout=WORKER_TIMEOUT,
    )
    assert event.attempts == 1
    account.refresh_from_db()
    assert (account.status, account.plan_id) == (AccountStatus.ACTIVE, plan.pk)
    assert account.payments.get().amount == Decimal("19.99")


def test_a_failing_task_is_retried_with_exponential_backoff_then_dead_lettered(worker, smtp, settings):
    settings.EMAIL_BACKEND = "background.mail.QueuedEmailBackend"
    smtp.unavailable = True
    smtp.connected_at.clear()

    send_mail("Receipt", "Thank you", "noreply@example.com", ["payer@example.com"])

    dead = wait_for(
        lambda: DeadLetter.objects.filter(task_name="background.send_email").first(), timeout=WORKER_TIMEOUT
    )
    assert dead.attempts == MAX_RETRIES + 1
    assert "SMTP" in dead.error and dead.kwargs["message"]["to"] == ["payer@example.com"]
    attempts = smtp.connected_at
    assert len(attempts) == MAX_RETRIES + 1
    waits = [later - earlier for earlier, later in zip(attempts, attempts[1:], strict=False)]
    expected = [BACKOFF_SECONDS * 2**n for n in range(MAX_RETRIES)]  # 1 s, 2 s, 4 s
    assert all(wait >= minimum * 0.9 for wait, minimum in zip(waits, expected, strict=True)), waits
    assert waits == sorted(waits), waits


def worker_metrics(token: str = METRICS_TOKEN) -> requests.Response:
    return requests.get(
        f"http://127.0.0.1:{METRICS_PORT}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def emails_sent() -> float | None:
    """The worker's count of successful `background.send_email` runs; None until it serves metrics."""
    try:
        response = worker_metrics()
    except requests.ConnectionError:
        return None
    labels = {"task": "background.send_email", "state": "success"}
    samples = [s for f in text_string_to_metric_families(response.text) for s in f.samples]
    return sum(s.value for s in samples if s.name == "botgeneric_task_runs_total" and s.labels == labels)


def test_the_worker_serves_the_metrics_of_the_tasks_it_ran(worker, smtp, settings):
    settings.EMAIL_BACKEND = "background.mail.QueuedEmailBackend"
    smtp.unavailable = False
    before = wait_for(lambda: emails_sent() is not None and [emails_sent()], timeout=WORKER_TIMEOUT)[0]

    send_mail("Receipt", "Thank you", "noreply@example.com", ["payer@example.com"])

    wait_for(lambda: (emails_sent() or 0) == before + 1, timeout=WORKER_TIMEOUT)
    assert worker_metrics("wrong-token").status_code == 404
    assert requests.get(f"http://127.0.0.1:{METRICS_PORT}/metrics", timeout=10).status_code == 404
