"""Issue 17 item 3: JSON log lines (LOG_FORMAT=json, production's default) carry the request id on every
line written while a request is handled, from the event loop and from the thread its ORM work runs in
under ASGI, and the task id on every line a task writes."""

import io
import json
import logging.config

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.test import AsyncClient
from rest_framework_simplejwt.tokens import RefreshToken

from billing.tasks import billing_tick
from botgeneric.log_format import logging_settings

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_lines():
    """Log records at DEBUG as the production handler writes them; `json_lines()` parses those written
    since it was last called."""
    buffer = io.StringIO()
    config = logging_settings(log_format="json", level="DEBUG")
    config["handlers"]["console"]["stream"] = buffer
    logging.config.dictConfig(config)

    def lines() -> list[dict]:
        written = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return [json.loads(line) for line in written.splitlines()]

    yield lines
    logging.config.dictConfig(settings.LOGGING)


def test_every_line_of_a_request_is_json_with_its_request_id(json_lines, user, settings):
    settings.DEBUG = True  # django.db.backends logs each query, from the thread that ran it
    token = RefreshToken.for_user(user).access_token
    json_lines()

    response = async_to_sync(AsyncClient().get)("/api/v1/agents/999999", headers={"Authorization": f"Bearer {token}"})
    lines = [line for line in json_lines() if line["logger"] != "asyncio"]  # the test's loop starting

    assert response.status_code == 404
    request_id = response["X-Request-ID"]
    assert request_id.startswith("req_")
    loggers = {line["logger"] for line in lines}
    assert {"django.db.backends", "django.request"} <= loggers, loggers  # the ORM thread and the event loop
    assert [line["request_id"] for line in lines] == [request_id] * len(lines)
    assert all({"time", "level", "message"} <= set(line) for line in lines)


def test_an_incoming_request_id_is_kept_on_the_lines(json_lines):
    response = async_to_sync(AsyncClient().get)("/no-such-page", headers={"X-Request-ID": "edge-proxy-42"})
    lines = [line for line in json_lines() if line["logger"] != "asyncio"]

    assert response["X-Request-ID"] == "edge-proxy-42"
    assert lines and all(line["request_id"] == "edge-proxy-42" for line in lines)


def test_the_lines_of_a_task_carry_its_id(json_lines):
    result = billing_tick.apply_async()
    lines = json_lines()

    tick_lines = [line for line in lines if line["logger"] == "billing.tasks"]
    assert tick_lines and all(line["task_id"] == result.id for line in tick_lines)


def test_an_unknown_log_format_is_refused():
    with pytest.raises(Exception, match="LOG_FORMAT"):
        logging_settings(log_format="xml", level="INFO")
