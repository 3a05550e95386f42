"""What clients configured in different ways meet: the /v1 alias, a trailing slash, JSON 404s that
name what is supported, and the headers on every answer (x-request-id, x-ratelimit-*)."""

import io
import logging
import re

import openai
import pytest
from rest_framework.test import APIClient

from botgeneric.request_id import RequestIdFilter
from policy.tests.factories import PolicyRuleFactory
from usage.models import UsageEvent

pytestmark = pytest.mark.django_db(transaction=True)

CHAT = "/api/v1/openai/chat/completions"
HI = {"model": "writer", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def api(api_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")
    return client


def test_a_base_url_ending_in_v1_is_the_same_api(live_asgi_server, sdk_client, api_key, fake_openai):
    with sdk_client(live_asgi_server, api_key, "/api/v1/openai/v1") as client:
        completion = client.chat.completions.create(**HI)
        models = [model.id for model in client.models.list()]

    assert completion.choices[0].message.content == "echo: Please answer: hi"
    assert models == ["writer"]


@pytest.mark.parametrize("path", [f"{CHAT}/", "/api/v1/openai/v1/chat/completions/"])
def test_a_trailing_slash_is_tolerated(api, fake_openai, path):
    response = api.post(path, HI, format="json")

    assert response.status_code == 200
    assert response.json()["object"] == "chat.completion"


def test_legacy_completions_and_embeddings_are_json_404s_naming_what_is_supported(client):
    with pytest.raises(openai.NotFoundError) as completions:
        client.completions.create(model="writer", prompt="hi")
    with pytest.raises(openai.NotFoundError) as embeddings:
        client.embeddings.create(model="writer", input="hi")

    for missing in (completions.value, embeddings.value):
        assert missing.code == "unknown_url"
        assert missing.type == "invalid_request_error"
        assert "chat/completions" in missing.message and "responses" in missing.message


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", CHAT, 405),
        ("post", "/api/v1/openai/embeddings", 404),
        ("post", "/api/v1/openai/v1/completions/", 404),
        ("get", "/api/v1/no-such-thing", 404),
    ],
)
def test_every_error_under_api_is_json(api, method, path, status):
    response = getattr(api, method)(path, {}, format="json")

    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")


def test_an_oversized_body_is_a_json_413_in_openais_shape(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = api.post(CHAT, {**HI, "messages": [{"role": "user", "content": "x" * 5000}]}, format="json")

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


@pytest.fixture
def console_log():
    """What the configured console log handler (LOGGING) writes, read from a buffer."""
    handler = next(h for h in logging.getLogger().handlers if any(isinstance(f, RequestIdFilter) for f in h.filters))
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


def test_a_valid_incoming_request_id_is_echoed_and_logged(api, fake_openai, console_log):
    fake_openai.mode = "fail_500"

    response = api.post(CHAT, HI, format="json", HTTP_X_REQUEST_ID="trace-42.abc")

    assert response.status_code == 502
    assert response["x-request-id"] == "trace-42.abc"
    [line] = [line for line in console_log.getvalue().splitlines() if "upstream error" in line]
    assert "[trace-42.abc]" in line


@pytest.mark.parametrize("incoming", [None, "bad id with spaces", "x" * 200])
def test_a_request_id_is_made_when_none_valid_is_sent(api, incoming):
    headers = {"HTTP_X_REQUEST_ID": incoming} if incoming else {}

    first = api.get("/api/v1/openai/models", **headers)
    second = api.get("/api/v1/openai/models", **headers)

    assert first["x-request-id"].startswith("req_") and first["x-request-id"] != second["x-request-id"]


def test_errors_and_other_api_answers_carry_a_request_id_too(api_client):
    assert api_client.get("/api/v1/openai/models")["x-request-id"]
    assert api_client.get("/api/v1/agents")["x-request-id"]


def test_ratelimit_headers_tell_the_tighter_of_rate_limit_and_quota(client, user, plan, same_rate_window):
    PolicyRuleFactory(organization=user.organization, requests_per_minute=5)
    plan.quota_tokens_input, plan.quota_tokens_output = 10_000, 20_000
    plan.save()

    response = client.chat.completions.with_raw_response.create(**HI)

    event = UsageEvent.objects.get()
    headers = response.headers
    assert (headers["x-ratelimit-limit-requests"], headers["x-ratelimit-remaining-requests"]) == ("5", "4")
    assert 0 < _seconds(headers["x-ratelimit-reset-requests"]) <= 60
    assert headers["x-ratelimit-limit-tokens"] == "30000"
    assert int(headers["x-ratelimit-remaining-tokens"]) == 30_000 - event.tokens_input - event.tokens_output
    assert 0 < _seconds(headers["x-ratelimit-reset-tokens"]) <= 31 * 24 * 3600  # the period's end


def _seconds(duration: str) -> int:
    """OpenAI's reset format (`17s`, `1m0s`, `50h3m12s`) in seconds."""
    hours, minutes, seconds = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(\d+)s", duration).groups()
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + int(seconds)


def test_the_request_quota_is_told_when_there_is_no_rate_limit(client, plan):
    response = client.chat.completions.with_raw_response.create(**HI)

    assert (response.headers["x-ratelimit-limit-requests"], response.headers["x-ratelimit-remaining-requests"]) == (
        str(plan.quota_requests),
        str(plan.quota_requests - 1),
    )
    assert "x-ratelimit-limit-tokens" not in response.headers  # the plan's token quota is unlimited


def test_a_streamed_answer_has_the_headers_too(client):
    with client.chat.completions.with_streaming_response.create(**HI, stream=True) as response:
        assert response.headers["x-ratelimit-remaining-requests"]
        assert response.headers["x-request-id"]
