"""Chat Completions as OpenAI clients send them: the whole conversation after the agent's own prompt,
stored only when asked, parameters forwarded (capped, validated, lockable) and tools round trip.
The fake upstream records exactly what it received."""

import json

import openai
import pytest

from accounts.tests.factories import UserFactory
from agents.models import Conversation, Message
from agents.tests.factories import AgentFactory
from agents.tests.tool_definitions import WEATHER_TOOL
from prompts.models import PromptVersion
from usage.models import Outcome, PeriodCounter, UsageEvent

pytestmark = pytest.mark.django_db(transaction=True)


def _version(agent) -> PromptVersion:
    return agent.prompt_versions.get(status="active")


def test_history_and_client_system_messages_follow_the_agents_prompt(client, upstream_agent, fake_openai):
    client.chat.completions.create(
        model="writer",
        messages=[
            {"role": "system", "content": "Answer in French."},
            {"role": "user", "content": "an earlier question"},
            {"role": "assistant", "content": "an earlier answer"},
            {"role": "developer", "content": "Be brief."},
            {"role": "user", "content": "What is a haiku?"},
        ],
    )

    assert fake_openai.chat_requests[-1]["json"]["messages"] == [
        {"role": "system", "content": _version(upstream_agent).system_prompt},
        {"role": "system", "content": "Answer in French."},
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "an earlier question"},
        {"role": "assistant", "content": "an earlier answer"},
        {"role": "user", "content": "Please answer: What is a haiku?"},
    ]


def test_nothing_is_stored_unless_the_client_asks(client, fake_openai):
    completion = client.chat.completions.create(model="writer", messages=[{"role": "user", "content": "hi"}])

    assert Conversation.objects.count() == 0
    assert completion.metadata is None
    assert UsageEvent.objects.get().outcome == Outcome.OK


def test_store_true_keeps_the_exchange_and_metadata_conversation_id_continues_it(client, fake_openai, user):
    first = client.chat.completions.create(
        model="writer", messages=[{"role": "user", "content": "remember me"}], store=True
    )
    conversation_id = first.metadata["conversation_id"]

    second = client.chat.completions.create(
        model="writer",
        messages=[{"role": "user", "content": "and now?"}],
        metadata={"conversation_id": conversation_id},
    )

    conversation = Conversation.objects.get()
    assert (str(conversation.pk), conversation.user, conversation.channel) == (conversation_id, user, "api")
    assert second.metadata["conversation_id"] == conversation_id
    assert list(Message.objects.values_list("content", flat=True)) == [
        "remember me",
        "echo: Please answer: remember me",
        "and now?",
        "echo: Please answer: and now?",
    ]
    sent = fake_openai.chat_requests[-1]["json"]["messages"]
    assert [message["content"] for message in sent[1:]] == [
        "remember me",
        "echo: Please answer: remember me",
        "Please answer: and now?",
    ]


def test_someone_elses_conversation_id_is_not_found(client, fake_openai, user):
    other = AgentFactory(slug="other-agent", with_prompt=True)
    stranger = UserFactory()
    theirs = Conversation.objects.create(organization=stranger.organization, user=stranger, agent=other, channel="api")

    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(
            model="writer", messages=[{"role": "user", "content": "hi"}], metadata={"conversation_id": str(theirs.pk)}
        )
    assert fake_openai.chat_requests == []


def test_parameters_reach_the_upstream_and_max_tokens_is_capped(client, upstream_agent, fake_openai):
    client.chat.completions.create(
        model="writer",
        messages=[{"role": "user", "content": "hi"}],
        temperature=0.2,
        top_p=0.9,
        max_completion_tokens=1_000_000,
        stop=["END", "STOP"],
        seed=42,
        presence_penalty=0.5,
        frequency_penalty=-0.5,
        user="customer-7",
    )

    sent = fake_openai.chat_requests[-1]["json"]
    assert {name: sent[name] for name in ("temperature", "top_p", "stop", "seed", "user")} == {
        "temperature": 0.2,
        "top_p": 0.9,
        "stop": ["END", "STOP"],
        "seed": 42,
        "user": "customer-7",
    }
    assert (sent["presence_penalty"], sent["frequency_penalty"]) == (0.5, -0.5)
    assert sent["max_tokens"] == _version(upstream_agent).max_tokens


def test_a_smaller_max_tokens_is_sent_and_the_versions_temperature_is_the_default(client, upstream_agent, fake_openai):
    client.chat.completions.create(model="writer", messages=[{"role": "user", "content": "hi"}], max_tokens=7)

    sent = fake_openai.chat_requests[-1]["json"]
    assert sent["max_tokens"] == 7
    assert sent["temperature"] == float(_version(upstream_agent).temperature)


def test_json_schema_output_is_requested_and_returned(client, fake_openai):
    schema = {"type": "object", "properties": {"title": {"type": "string"}, "pages": {"type": "integer"}}}
    response_format = {"type": "json_schema", "json_schema": {"name": "book", "schema": schema, "strict": True}}

    completion = client.chat.completions.create(
        model="writer", messages=[{"role": "user", "content": "a book"}], response_format=response_format
    )

    assert fake_openai.chat_requests[-1]["json"]["response_format"] == response_format
    assert json.loads(completion.choices[0].message.content) == {"title": "sample title", "pages": 1}


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"temperature": 5}, "temperature"),
        ({"temperature": -0.1}, "temperature"),
        ({"top_p": 1.5}, "top_p"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_completion_tokens": -3}, "max_completion_tokens"),
        ({"presence_penalty": 2.5}, "presence_penalty"),
        ({"frequency_penalty": -3}, "frequency_penalty"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"seed": "lucky"}, "seed"),
        ({"n": 2}, "n"),
        ({"response_format": {"type": "xml"}}, "response_format.type"),
        ({"response_format": {"type": "json_schema"}}, "response_format.json_schema"),
        ({"tool_choice": "auto"}, "tool_choice"),
        ({"tools": [{"type": "function", "function": {"name": "bad name!"}}]}, "tools[0].function.name"),
        ({"tools": [WEATHER_TOOL], "tool_choice": {"type": "function", "function": {"name": "other"}}}, "tool_choice"),
        ({"logprobs": True}, "logprobs"),
        ({"logit_bias": {"50256": -100}}, "logit_bias"),
        ({"metadata": {"conversation_id": "abc"}}, "metadata.conversation_id"),
        ({"metadata": {"conversation_id": "\u00b2"}}, "metadata.conversation_id"),  # a digit to isdigit()
        ({"tools": [None]}, "tools"),
        ({"tools": [WEATHER_TOOL, None]}, "tools"),
        ({"tools": [WEATHER_TOOL], "tool_choice": {"type": "function", "function": ["get_weather"]}}, "tool_choice"),
    ],
)
def test_an_invalid_or_unsupported_parameter_is_a_400_naming_it(client, fake_openai, params, param):
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model="writer", messages=[{"role": "user", "content": "hi"}], **params)

    assert bad.value.status_code == 400
    assert bad.value.type == "invalid_request_error"
    assert bad.value.param == param
    assert fake_openai.chat_requests == []
    assert PeriodCounter.objects.filter(requests__gt=0).count() == 0


@pytest.mark.parametrize(
    ("locked", "params", "param"),
    [
        (["temperature"], {"temperature": 0.3}, "temperature"),
        (["max_tokens"], {"max_completion_tokens": 10}, "max_completion_tokens"),
        (["tools"], {"tools": [WEATHER_TOOL]}, "tools"),
        (["response_format"], {"response_format": {"type": "json_object"}}, "response_format"),
    ],
)
def test_a_parameter_the_operator_locked_is_a_400(client, upstream_agent, fake_openai, locked, params, param):
    PromptVersion.objects.filter(agent=upstream_agent).update(locked_parameters=locked)

    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model="writer", messages=[{"role": "user", "content": "hi"}], **params)

    assert (bad.value.code, bad.value.param) == ("parameter_locked", param)
    assert fake_openai.chat_requests == []


def test_a_locked_temperature_is_the_versions_own(client, upstream_agent, fake_openai):
    PromptVersion.objects.filter(agent=upstream_agent).update(locked_parameters=["temperature"])

    client.chat.completions.create(model="writer", messages=[{"role": "user", "content": "hi"}], top_p=0.5)

    assert fake_openai.chat_requests[-1]["json"]["temperature"] == float(_version(upstream_agent).temperature)


def test_tools_round_trip_without_streaming(client, fake_openai):
    messages = [{"role": "user", "content": "weather in Paris?"}]
    first = client.chat.completions.create(model="writer", messages=messages, tools=[WEATHER_TOOL])

    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    [call] = choice.message.tool_calls
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "sample city"}

    messages += [
        choice.message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
    ]
    second = client.chat.completions.create(model="writer", messages=messages, tools=[WEATHER_TOOL])

    assert (second.choices[0].message.content, second.choices[0].finish_reason) == ("echo: sunny", "stop")
    sent = fake_openai.chat_requests[-1]["json"]["messages"]
    assert sent[-2]["tool_calls"][0]["id"] == call.id
    assert sent[-1] == {"role": "tool", "tool_call_id": call.id, "content": "sunny"}
    assert [event.outcome for event in UsageEvent.objects.all()] == [Outcome.OK, Outcome.OK]


def test_tools_round_trip_streaming(client, fake_openai):
    stream = client.chat.completions.create(
        model="writer",
        messages=[{"role": "user", "content": "weather?"}],
        tools=[WEATHER_TOOL],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        stream=True,
    )
    chunks = list(stream)

    fragments = [call for chunk in chunks for call in (chunk.choices[0].delta.tool_calls or [])]
    assert fragments[0].id and fragments[0].function.name == "get_weather"
    arguments = "".join(fragment.function.arguments or "" for fragment in fragments)
    assert json.loads(arguments) == {"city": "sample city"}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_the_oldest_messages_are_dropped_to_fit_the_context_budget(client, upstream_agent, fake_openai):
    PromptVersion.objects.filter(agent=upstream_agent).update(context_tokens=40)
    messages = [
        {"role": "user", "content": "old question " * 20},
        {"role": "assistant", "content": "old answer " * 20},
        {"role": "user", "content": "recent"},
        {"role": "assistant", "content": "recent answer"},
        {"role": "user", "content": "now"},
    ]

    client.chat.completions.create(model="writer", messages=messages)

    sent = [message["content"] for message in fake_openai.chat_requests[-1]["json"]["messages"][1:]]
    assert sent == ["recent", "recent answer", "Please answer: now"]


def test_a_last_message_beyond_the_context_budget_is_a_400(client, upstream_agent, fake_openai):
    PromptVersion.objects.filter(agent=upstream_agent).update(context_tokens=40)

    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model="writer", messages=[{"role": "user", "content": "long " * 100}])

    assert (bad.value.code, bad.value.param) == ("context_length_exceeded", "messages")
    assert fake_openai.chat_requests == []
