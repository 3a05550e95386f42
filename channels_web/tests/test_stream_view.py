"""The dashboard's streaming endpoint: Server-Sent Events the chat script reads (issue #9, item 6)."""

import json

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient

from agents.models import Conversation, Message
from agents.tests.factories import LLMProviderFactory

pytestmark = pytest.mark.django_db(transaction=True)

STREAM_URL = "/dashboard/stream/"


@pytest.fixture
def upstream_agent(agent, fake_openai):
    provider = LLMProviderFactory(openai=True, base_url=fake_openai.base_url, api_key="sk-test")
    agent.prompt_versions.update(provider=provider)
    return agent


def _events(body: bytes) -> list[tuple[str, dict]]:
    events = []
    for block in body.decode().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in lines:
            events.append((lines["event"], json.loads(lines["data"])))
    return events


def _post(user, data: dict):
    async def run():
        client = AsyncClient()
        if user is not None:
            await client.aforce_login(user)
        response = await client.post(STREAM_URL, data)
        if response.streaming:
            body = b"".join([chunk async for chunk in response.streaming_content])
        else:
            body = response.content
        return response, body

    return async_to_sync(run)()


def test_the_answer_streams_as_deltas_then_one_done_with_the_stored_answer(user, account, upstream_agent):
    response, body = _post(user, {"agent": upstream_agent.pk, "input": "Say **hello** <script>x()</script>"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    *deltas, (name, done) = _events(body)
    assert name == "done" and len(deltas) > 2 and {kind for kind, _ in deltas} == {"delta"}
    answer = Message.objects.get(role="assistant")
    assert "".join(delta["text"] for _, delta in deltas) == answer.content
    conversation = Conversation.objects.get()
    assert (done["conversation_id"], done["url"]) == (conversation.pk, f"/dashboard/c/{conversation.pk}/")
    assert "<strong>hello</strong>" in done["html"]
    assert "<script" not in done["html"] and "&lt;script&gt;" in done["html"]
    assert f"Tokens: {answer.conversation.messages.get(role='user').tokens_input} in" in done["meta"]


def test_a_follow_up_continues_the_conversation(user, account, upstream_agent):
    _post(user, {"agent": upstream_agent.pk, "input": "first"})
    conversation = Conversation.objects.get()

    _post(user, {"agent": upstream_agent.pk, "input": "second", "conversation": conversation.pk})

    assert Conversation.objects.count() == 1
    assert conversation.messages.count() == 4


def test_a_refusal_is_an_error_event_in_the_dashboards_words(user, upstream_agent):
    response, body = _post(user, {"agent": upstream_agent.pk, "input": "hello"})

    assert response.status_code == 200
    [(name, error)] = _events(body)
    assert name == "error"
    assert "no subscription" in error["text"] and error["link_url"] == "/billing/"


def test_another_users_conversation_is_not_found(user, account, upstream_agent):
    from accounts.tests.factories import UserFactory

    stranger = UserFactory()
    foreign = Conversation.objects.create(
        organization=stranger.organization, user=stranger, agent=upstream_agent, channel="web"
    )

    response, _ = _post(user, {"agent": upstream_agent.pk, "input": "hi", "conversation": foreign.pk})

    assert response.status_code == 404
    assert not Message.objects.exists()


def test_signed_out_and_invalid_posts_are_refused_in_words(user, account, upstream_agent):
    signed_out, body = _post(None, {"agent": upstream_agent.pk, "input": "hello"})
    assert signed_out.status_code == 401 and _events(body)[0][0] == "error"

    empty, body = _post(user, {"agent": upstream_agent.pk, "input": ""})
    assert empty.status_code == 400 and _events(body)[0][0] == "error"


def test_a_failure_mid_answer_keeps_the_deltas_and_says_only_they_were_charged(
    user, account, upstream_agent, fake_openai
):
    fake_openai.fail_after_tokens = 3

    _, body = _post(user, {"agent": upstream_agent.pk, "input": "one two three four five six FAIL_MIDSTREAM"})

    *deltas, (name, error) = _events(body)
    assert deltas and {kind for kind, _ in deltas} == {"delta"}
    assert name == "error" and "Only the part above was charged" in error["text"]
    assert Message.objects.get(role="assistant").interrupted


def test_an_unreadable_provider_key_is_explained_without_leaking_anything(user, account, upstream_agent, settings):
    settings.SECRET_KEY = "rotated-" + "r" * 60

    _, body = _post(user, {"agent": upstream_agent.pk, "input": "hello"})

    [(name, error)] = _events(body)
    assert name == "error" and "not available right now. You were not charged" in error["text"]
