"""The Responses API (`client.responses.create`), plain and streaming, with stored responses continued
by `previous_response_id`; through the official SDK over real HTTP."""

import json

import openai
import pytest

from agents.models import Conversation
from usage.models import Outcome, UsageEvent

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_string_input_answers_with_output_text_and_usage(client, fake_openai):
    response = client.responses.create(model="writer", input="What is a haiku?")

    assert response.object == "response" and response.status == "completed"
    assert response.output_text == "echo: Please answer: What is a haiku?"
    assert response.model == "writer"
    event = UsageEvent.objects.get()
    assert event.outcome == Outcome.OK
    assert (response.usage.input_tokens, response.usage.output_tokens) == (event.tokens_input, event.tokens_output)
    assert response.usage.total_tokens == event.tokens_input + event.tokens_output


def test_instructions_and_message_input_follow_the_agents_prompt(client, upstream_agent, fake_openai):
    client.responses.create(
        model="writer",
        instructions="Answer in French.",
        input=[
            {"role": "user", "content": "earlier"},
            {"role": "assistant", "content": [{"type": "output_text", "text": "earlier answer"}]},
            {"role": "user", "content": [{"type": "input_text", "text": "now"}]},
        ],
        max_output_tokens=50,
        temperature=0.3,
    )

    sent = fake_openai.chat_requests[-1]["json"]
    assert sent["messages"] == [
        {"role": "system", "content": upstream_agent.prompt_versions.get().system_prompt},
        {"role": "system", "content": "Answer in French."},
        {"role": "user", "content": "earlier"},
        {"role": "assistant", "content": "earlier answer"},
        {"role": "user", "content": "Please answer: now"},
    ]
    assert (sent["max_tokens"], sent["temperature"]) == (50, 0.3)


def test_previous_response_id_continues_a_stored_response(client, fake_openai):
    first = client.responses.create(model="writer", input="remember me")
    second = client.responses.create(model="writer", input="and now?", previous_response_id=first.id)

    conversation = Conversation.objects.get()
    assert conversation.messages.count() == 4
    assert second.previous_response_id == first.id
    sent = [message["content"] for message in fake_openai.chat_requests[-1]["json"]["messages"][1:]]
    assert sent == ["remember me", "echo: Please answer: remember me", "Please answer: and now?"]


def test_a_response_not_stored_cannot_be_continued(client, fake_openai):
    first = client.responses.create(model="writer", input="forget me", store=False)

    assert Conversation.objects.count() == 0
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model="writer", input="again", previous_response_id=first.id)


def test_a_failure_before_the_answer_leaves_no_empty_conversation(client, fake_openai):
    fake_openai.mode = "fail_500"

    with pytest.raises(openai.InternalServerError):
        client.responses.create(model="writer", input="hi")

    assert Conversation.objects.count() == 0


def test_streaming_sends_the_responses_event_types(client, fake_openai):
    events = list(client.responses.create(model="writer", input="stream it", stream=True))

    types = [event.type for event in events]
    assert types[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert types[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    deltas = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    assert deltas == "echo: Please answer: stream it"
    completed = events[-1].response
    assert completed.output_text == deltas and completed.usage.total_tokens > 0
    assert [event.sequence_number for event in events] == list(range(len(events)))


def test_text_format_json_schema_is_structured_output(client, fake_openai):
    schema = {"type": "object", "properties": {"title": {"type": "string"}}}

    response = client.responses.create(
        model="writer",
        input="a book",
        text={"format": {"type": "json_schema", "name": "book", "schema": schema, "strict": True}},
    )

    assert json.loads(response.output_text) == {"title": "sample title"}
    sent = fake_openai.chat_requests[-1]["json"]["response_format"]
    assert sent == {"type": "json_schema", "json_schema": {"name": "book", "schema": schema, "strict": True}}


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"tools": [{"type": "function", "name": "f", "parameters": {}}]}, "tools"),
        ({"temperature": 3}, "temperature"),
        ({"input": [{"role": "user", "content": [{"type": "input_image", "image_url": "x"}]}]}, "input[0].content"),
        ({"previous_response_id": "not-ours"}, "previous_response_id"),
    ],
)
def test_an_invalid_or_unsupported_parameter_is_a_400_naming_it(client, fake_openai, params, param):
    with pytest.raises(openai.BadRequestError) as bad:
        client.responses.create(**{"model": "writer", "input": "hi", **params})

    assert bad.value.param == param
    assert fake_openai.chat_requests == []
