"""Issue 17 item 3: with SENTRY_DSN set, an unhandled error in a view reaches Sentry (here a fake one
speaking the envelope protocol), tagged with the release and environment, without the caller's
Authorization header or cookies; without SENTRY_DSN the SDK is not even set up.

The app server is a real gunicorn process (Sentry's SDK is global to a process) whose database does not
exist: every view that needs it fails with an error nobody handles.
"""

import subprocess
import sys

import pytest
import requests

from testing.app_servers import ROOT, database_url, start_app_servers, stop_app_servers
from testing.fakes.sentry import FakeSentry

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.app_servers]

SECRET_TOKEN = "sk-secret-api-key-must-not-leak-0123"
SECRET_SESSION = "secret-session-cookie-must-not-leak"


@pytest.fixture
def sentry():
    fake = FakeSentry().start()
    yield fake
    fake.stop()


def test_an_unhandled_error_in_a_view_reaches_sentry_without_secrets(django_db_blocker, sentry):
    with django_db_blocker.unblock():
        missing_database = database_url().rsplit("/", 1)[0] + "/no_such_database_for_sentry_test"
    environment = {
        "SENTRY_DSN": sentry.dsn,
        "SENTRY_ENVIRONMENT": "staging",
        "SENTRY_RELEASE": "bot-generic@1.2.3",
        "DATABASE_URL": missing_database,
    }
    [server] = start_app_servers(1, environment, healthz=503)
    try:
        response = requests.get(
            f"{server[1]}/api/v1/billing/plans",
            headers={"Authorization": f"Bearer {SECRET_TOKEN}", "Cookie": f"sessionid={SECRET_SESSION}"},
            timeout=30,
        )
        assert response.status_code == 500
        event = sentry.wait_for_event()
    finally:
        stop_app_servers([server])

    assert len(sentry.events) == 1  # that error, nothing from the server's start or stop
    assert (event["environment"], event["release"]) == ("staging", "bot-generic@1.2.3")
    [exception] = [value for value in event["exception"]["values"] if value.get("module") == "django.db.utils"]
    assert exception["type"] == "OperationalError"
    assert "no_such_database_for_sentry_test" in exception["value"]
    assert event["request"]["url"].endswith("/api/v1/billing/plans")
    sent_headers = {name.lower(): value for name, value in event["request"]["headers"].items()}
    assert sent_headers.get("authorization", "[Filtered]") == sent_headers.get("cookie", "[Filtered]") == "[Filtered]"
    assert "cookies" not in event["request"]
    raw = b"".join(payload for _, payload in sentry.items)
    assert SECRET_TOKEN.encode() not in raw and SECRET_SESSION.encode() not in raw
    assert all(SECRET_TOKEN not in str(headers) for _, headers in sentry.requests)


def test_without_a_dsn_sentry_is_not_set_up():
    probe = "import django, sys; django.setup(); print('sentry_sdk' in sys.modules)"
    answer = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "botgeneric.settings.test", "SENTRY_DSN": "", "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert answer.stdout.strip() == "False"
