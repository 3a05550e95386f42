"""The upstream's HTTP connections: kept and reused across calls in one event loop (the ASGI server's), closed
with the loop that opened them (a synchronous call's), never held open by an upstream that does not end its
body. Real HTTP to the fake OpenAI upstream, the real openai SDK."""

import gc
import logging
import time
import warnings

import httpx2 as httpx
import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from agents.models import Message, MessageRole
from agents.runtime import clear_caches
from usage.models import PeriodCounter

CALLS = 5


def _wait_for(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return bool(condition())


def _invoke(client, agent, text):
    return client.post(f"/api/v1/agents/{agent.pk}/invoke", {"input": text}, format="json")


@pytest.mark.django_db(transaction=True)
def test_consecutive_invokes_under_the_asgi_server_share_one_upstream_connection(
    live_asgi_server, user, agent, account, upstream_provider, fake_openai
):
    token = RefreshToken.for_user(user).access_token
    url = f"/api/v1/agents/{agent.pk}/invoke"
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=live_asgi_server.url, headers=headers, timeout=30) as http:
        for number in range(CALLS):
            response = http.post(url, json={"input": f"question {number}"})
            assert response.status_code == 200, response.text
        with http.stream("POST", url, json={"input": "and a streamed one", "stream": True}) as streamed:
            assert streamed.status_code == 200
            assert "event: done" in streamed.read().decode()

    assert len(fake_openai.chat_requests) == CALLS + 1
    assert fake_openai.connections_accepted == 1


def test_an_upstream_that_keeps_its_body_open_after_done_is_closed_and_the_answer_kept(
    auth_client, agent, account, upstream_provider, fake_openai
):
    upstream_provider.timeout = 30.0  # the SDK's read timeout would end the wait after 30 s
    upstream_provider.save(update_fields=["timeout"])
    started = time.monotonic()

    response = _invoke(auth_client, agent, "HANG_AFTER_DONE then say this")

    assert response.status_code == 200, response.json()
    assert time.monotonic() - started < 5
    assert response.json()["output"] == "echo: HANG_AFTER_DONE then say this"
    assert _wait_for(lambda: fake_openai.closed_streams)
    assert fake_openai.streams[0]["completed"]
    assert Message.objects.get(role=MessageRole.ASSISTANT).content == response.json()["output"]
    assert PeriodCounter.objects.get(account=account).requests == 1


def test_a_synchronous_call_closes_its_upstream_connection_when_its_event_loop_ends(
    auth_client, agent, account, upstream_provider, fake_openai, caplog
):
    before = fake_openai.open_connections
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.ERROR, logger="asyncio"):
        warnings.simplefilter("always")
        for number in range(3):
            assert _invoke(auth_client, agent, f"question {number}").status_code == 200
            assert _wait_for(lambda: fake_openai.open_connections <= before), fake_openai.open_connections
        clear_caches()
        gc.collect()

    assert fake_openai.connections_accepted == 3
    assert [str(warning.message) for warning in caught if issubclass(warning.category, ResourceWarning)] == []
    assert [record.getMessage() for record in caplog.records if "Unclosed" in record.getMessage()] == []
