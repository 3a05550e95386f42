"""Streamed answers through the real HTTP stack: the project's ASGI application under uvicorn (as
`make run` serves it), the fake OpenAI upstream streaming over real HTTP, real clients (the openai SDK,
httpx reading Server-Sent Events)."""

import json
import socket
import time

import httpx2 as httpx
import openai
import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from agents.models import Conversation, Message, MessageRole
from agents.runtime import estimate_tokens
from agents.tests.factories import AgentFactory, LLMProviderFactory
from billing.tests.factories import PlanFactory
from policy.tests.factories import BillingAccountFactory
from prompts.tests.factories import ActivePromptVersionFactory
from tenants.services import create_api_key
from testing.polling import wait_for
from usage.models import Outcome, PeriodCounter, UsageEvent

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def provider(fake_openai):
    return LLMProviderFactory(openai=True, base_url=fake_openai.base_url, api_key="sk-upstream", timeout=5.0)


@pytest.fixture
def streaming_agent(provider):
    agent = AgentFactory(slug="streamer")
    ActivePromptVersionFactory(agent=agent, provider=provider, template="{input}", model="gpt-4o-mini", max_tokens=400)
    return agent


@pytest.fixture
def account(user, streaming_agent):
    return BillingAccountFactory(
        organization=user.organization, plan=PlanFactory(agents=[streaming_agent], quota_requests=100)
    )


@pytest.fixture
def http(live_asgi_server, user, account):
    """httpx against the live server, signed in as `user` with a JWT."""
    token = RefreshToken.for_user(user).access_token
    with httpx.Client(base_url=live_asgi_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
        yield c


@pytest.fixture
def sdk(live_asgi_server, user, account):
    _, secret = create_api_key(organization=user.organization, name="sdk", actor=user)
    with openai.OpenAI(
        base_url=f"{live_asgi_server.url}/api/v1/openai", api_key=secret, max_retries=0, timeout=30
    ) as client:
        yield client


def _events(lines) -> list[tuple[str, dict]]:
    """(event, data) pairs of a Server-Sent Events body, comments skipped."""
    events, name = [], "message"
    for line in lines:
        if line.startswith("event: "):
            name = line[len("event: ") :]
        elif line.startswith("data: "):
            events.append((name, json.loads(line[len("data: ") :])))
            name = "message"
    return events


def test_openai_sdk_gets_each_delta_as_its_own_chunk_while_the_upstream_is_still_writing(
    sdk, streaming_agent, fake_openai
):
    fake_openai.pause(3)
    stream = sdk.chat.completions.create(
        model="streamer",
        messages=[{"role": "user", "content": "one two three four five six"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = iter(stream)
    early = [next(chunks) for _ in range(3)]

    assert fake_openai.wait_paused(timeout=1)  # the upstream has not written the rest yet
    assert [chunk.choices[0].delta.content for chunk in early] == ["echo: ", "one ", "two "]
    assert early[0].choices[0].delta.role == "assistant"
    fake_openai.release()
    rest = list(chunks)

    text = "".join(chunk.choices[0].delta.content or "" for chunk in early + rest if chunk.choices)
    assert text == "echo: one two three four five six"
    assert [chunk.choices[0].finish_reason for chunk in rest if chunk.choices][-1] == "stop"
    event = UsageEvent.objects.get()
    assert (rest[-1].usage.prompt_tokens, rest[-1].usage.completion_tokens) == (event.tokens_input, event.tokens_output)
    assert len({chunk.id for chunk in early + rest}) == 1


def test_openai_stream_without_include_usage_has_no_usage_chunk(sdk, streaming_agent, fake_openai):
    chunks = list(
        sdk.chat.completions.create(model="streamer", messages=[{"role": "user", "content": "hi"}], stream=True)
    )

    assert all(chunk.choices for chunk in chunks)
    assert all(chunk.usage is None for chunk in chunks)


def test_rest_invoke_with_accept_event_stream_answers_deltas_then_done(http, streaming_agent, fake_openai):
    with http.stream(
        "POST",
        f"/api/v1/agents/{streaming_agent.pk}/invoke",
        json={"input": "hello streaming world"},
        headers={"Accept": "text/event-stream"},
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = _events(response.iter_lines())

    *deltas, (done_name, done) = events
    assert {name for name, _ in deltas} == {"delta"} and len(deltas) == 4
    assert "".join(data["text"] for _, data in deltas) == "echo: hello streaming world"
    assert done_name == "done"
    conversation = Conversation.objects.get()
    event = UsageEvent.objects.get()
    assert done == {
        "conversation_id": conversation.pk,
        "prompt_version": 1,
        "usage": {
            "tokens_input": event.tokens_input,
            "tokens_output": event.tokens_output,
            "latency_ms": done["usage"]["latency_ms"],
        },
    }


def test_rest_invoke_with_stream_true_streams_too_and_without_it_answers_json(http, streaming_agent):
    url = f"/api/v1/agents/{streaming_agent.pk}/invoke"
    with http.stream("POST", url, json={"input": "hi", "stream": True}) as response:
        names = [name for name, _ in _events(response.iter_lines())]
    plain = http.post(url, json={"input": "hi"})

    assert names[-1] == "done" and set(names[:-1]) == {"delta"}
    assert plain.headers["content-type"] == "application/json"
    assert plain.json()["output"] == "echo: hi"


def test_a_failure_mid_answer_ends_the_sse_stream_with_an_error_event(http, streaming_agent, fake_openai):
    with http.stream(
        "POST",
        f"/api/v1/agents/{streaming_agent.pk}/invoke",
        json={"input": "FAIL_MIDSTREAM a b c d e", "stream": True},
    ) as response:
        assert response.status_code == 200
        events = _events(response.iter_lines())

    assert [name for name, _ in events] == ["delta"] * fake_openai.fail_after_tokens + ["error"]
    assert events[-1][1]["code"] == "upstream_error"
    delivered = "".join(data["text"] for name, data in events if name == "delta")
    stored = Message.objects.get(role=MessageRole.ASSISTANT)
    assert (stored.content, stored.interrupted) == (delivered, True)
    assert PeriodCounter.objects.get().tokens_output == estimate_tokens(delivered)


def test_a_client_disconnect_after_three_chunks_cancels_the_upstream_and_meters_the_delivered_tokens(
    http, streaming_agent, fake_openai
):
    fake_openai.token_delay_ms = 200
    deltas = []
    with http.stream(
        "POST", f"/api/v1/agents/{streaming_agent.pk}/invoke", json={"input": "REPLY_CHARS=1200", "stream": True}
    ) as response:
        for line in response.iter_lines():
            if line.startswith("data: "):
                deltas.append(json.loads(line[len("data: ") :])["text"])
            if len(deltas) == 3:
                break
        hung_up = time.monotonic()

    assert fake_openai.wait_closed(timeout=2)
    [upstream] = fake_openai.streams
    assert upstream["ended_at"] - hung_up < 1.0 and not upstream["completed"]
    assert upstream["words_sent"] < 10  # of about 200
    event = wait_for(lambda: UsageEvent.objects.filter(error_code="client_closed").first())
    delivered = "".join(deltas)
    stored = Message.objects.get(role=MessageRole.ASSISTANT)
    assert stored.interrupted and stored.content.startswith(delivered)
    assert event.tokens_output == estimate_tokens(stored.content)
    assert PeriodCounter.objects.get().tokens_output == event.tokens_output


def test_no_first_token_in_time_answers_504_upstream_timeout_and_charges_nothing(http, streaming_agent, provider):
    provider.first_token_timeout = 0.3
    provider.save(update_fields=["first_token_timeout"])

    response = http.post(f"/api/v1/agents/{streaming_agent.pk}/invoke", json={"input": "HANG_STREAM", "stream": True})

    assert response.status_code == 504
    assert response.json()["code"] == "upstream_timeout"
    counter = PeriodCounter.objects.get()
    assert (counter.requests, counter.tokens_input, counter.tokens_output) == (0, 0, 0)
    assert UsageEvent.objects.get().outcome == Outcome.ERROR


def test_openai_endpoint_refuses_a_nul_character_before_calling_the_upstream(sdk, streaming_agent, fake_openai):
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.chat.completions.create(model="streamer", messages=[{"role": "user", "content": "a\x00b"}])

    assert refused.value.body["param"] == "messages[0].content"
    assert fake_openai.chat_requests == []


def test_openai_endpoint_caps_content_like_the_rest_invoke(sdk, streaming_agent, fake_openai):
    with pytest.raises(openai.BadRequestError):
        sdk.chat.completions.create(model="streamer", messages=[{"role": "user", "content": "x" * 20_001}])

    assert fake_openai.chat_requests == []


def test_nul_characters_in_the_model_output_are_dropped_before_saving(sdk, streaming_agent):
    completion = sdk.chat.completions.create(
        model="streamer", messages=[{"role": "user", "content": "REPLY_WITH_NUL"}], store=True
    )

    stored = Message.objects.get(role=MessageRole.ASSISTANT).content
    assert "\x00" not in stored and "\x00" not in completion.choices[0].message.content
    assert stored == completion.choices[0].message.content
    assert UsageEvent.objects.get().outcome == Outcome.OK


def test_an_answer_that_cannot_be_saved_is_still_metered(http, user, streaming_agent, fake_openai):
    conversation = Conversation.objects.create(
        organization=user.organization, user=user, agent=streaming_agent, channel="api"
    )
    fake_openai.pause(2)
    with http.stream(
        "POST",
        f"/api/v1/agents/{streaming_agent.pk}/invoke",
        json={"input": "one two three", "conversation_id": conversation.pk, "stream": True},
    ) as response:
        lines = response.iter_lines()
        assert fake_openai.wait_paused()
        conversation.delete()  # the customer deleted it in another tab while the answer was streaming
        fake_openai.release()
        events = _events(lines)

    assert events[-1] == ("error", {"code": "answer_not_saved", "detail": events[-1][1]["detail"]})
    event = UsageEvent.objects.get()
    assert (event.outcome, event.error_code) == (Outcome.ERROR, "answer_not_saved")
    assert event.tokens_output > 0
    assert PeriodCounter.objects.get().tokens_output == event.tokens_output


def test_openai_stream_sends_keep_alive_comments_while_the_upstream_is_silent(
    live_asgi_server, user, account, streaming_agent, fake_openai, settings
):
    settings.STREAM_KEEPALIVE_SECONDS = 0.2
    _, secret = create_api_key(organization=user.organization, name="raw", actor=user)
    fake_openai.pause(2)
    body = {"model": "streamer", "messages": [{"role": "user", "content": "one two three"}], "stream": True}
    seen = []
    with (
        httpx.Client(timeout=30) as client,
        client.stream(
            "POST",
            f"{live_asgi_server.url}/api/v1/openai/chat/completions",
            json=body,
            headers={"Authorization": f"Bearer {secret}"},
        ) as response,
    ):
        for line in response.iter_lines():
            seen.append(line)
            if line == ": keep-alive" and seen.count(": keep-alive") == 2:
                fake_openai.release()

    data = [line for line in seen if line.startswith("data: ")]
    assert seen.index(": keep-alive") > seen.index(data[1])  # after the first words, while the upstream paused
    assert data[-1] == "data: [DONE]"
    text = "".join(json.loads(line[6:])["choices"][0]["delta"].get("content") or "" for line in data[:-1])
    assert text == "echo: one two three"


def test_a_client_that_hangs_up_before_the_first_words_closes_the_upstream_and_pays_the_request_and_prompt(
    live_asgi_server, user, streaming_agent, account, fake_openai
):
    token = RefreshToken.for_user(user).access_token
    body = json.dumps({"input": "HANG_STREAM", "stream": True}).encode()
    request = (
        f"POST /api/v1/agents/{streaming_agent.pk}/invoke HTTP/1.1\r\nHost: {live_asgi_server.host}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection((live_asgi_server.host, live_asgi_server.port), timeout=10) as client:
        client.sendall(request + body)
        wait_for(lambda: fake_openai.streams)  # the upstream has the call and sends no words: hang up now

    assert fake_openai.wait_closed()
    event = wait_for(lambda: UsageEvent.objects.filter(error_code="client_closed").first())
    counter = PeriodCounter.objects.get()
    assert (counter.requests, counter.tokens_input, counter.tokens_output) == (1, event.tokens_input, 0)
    assert event.tokens_input > 0 and event.tokens_output == 0
    assert not Message.objects.exists()
