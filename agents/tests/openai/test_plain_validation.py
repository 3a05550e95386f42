"""The endpoints' plain validation (agents.openai_plain_input, `FastChatCompletionInput`, `FastResponsesInput`)
says exactly what the serializers say: for every body the same validated data (types and key order
included), the same properties the views read, the same locks refused, the same errors; over HTTP every
invalid body answers the 400 the serializer's error makes."""

import copy
import dataclasses
import json

import pytest
from rest_framework.test import APIClient

from agents.openai_api import openai_exception_handler
from agents.openai_plain_input import FastChatCompletionInput, FastResponsesInput
from agents.openai_requests import MAX_TOOLS, ChatCompletionInput, ResponsesInput
from agents.tests.tool_definitions import WEATHER_TOOL as WEATHER
from prompts.models import LockableParameter, PromptVersion

CHAT = "/api/v1/openai/chat/completions"
RESPONSES = "/api/v1/openai/responses"
HI = [{"role": "user", "content": "hi"}]
WEATHER_TOOL = {**WEATHER, "function": {**WEATHER["function"], "strict": True}}
CALL = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}}


def chat(**fields) -> dict:
    return {"model": "writer", "messages": HI, **fields}


def responses(**fields) -> dict:
    return {"model": "writer", "input": "hi", **fields}


# Bodies the plain path must vouch for (it answers, the serializer is not needed).
PLAIN_CHAT = [
    chat(),
    chat(stream=False),
    {
        "model": "writer",
        "messages": [
            {"role": "system", "content": "Answer in French."},
            {"role": "developer", "content": [{"type": "text", "text": "Be brief."}]},
            {"role": "user", "content": [{"type": "text", "text": "weather?"}, {"type": "text", "text": "in Oslo"}]},
            {"role": "assistant", "content": None, "tool_calls": [CALL]},
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
            {"role": "assistant", "content": "It is sunny.", "name": "bot"},
            {"role": "user", "content": "and tomorrow?", "name": "ann"},
        ],
        "temperature": 0.7,
        "top_p": 1,
        "seed": 42,
        "presence_penalty": -0.5,
        "frequency_penalty": 2,
        "user": "user-1",
        "tools": [WEATHER_TOOL, {"type": "function", "function": {"name": "noop"}}],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "parallel_tool_calls": False,
        "stream": True,
        "stream_options": {"include_usage": True},
        "store": True,
        "metadata": {"conversation_id": "12", "tag": ""},
        "n": 1,
        "max_tokens": 100,
        "max_completion_tokens": 50,
        "stop": ["\n\n", "END"],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "answer", "description": "Short.", "schema": {"type": "object"}, "strict": None},
        },
    },
    chat(temperature=1, top_p=0, stop="END", response_format={"type": "json_object"}, seed=-(2**40)),
    chat(tools=[WEATHER_TOOL], tool_choice="auto", parallel_tool_calls=None, user=""),
    chat(tools=[WEATHER_TOOL], tool_choice={"type": "function", "function": {"name": "get_weather", "x": 1}, "y": 2}),
    chat(tools=[], tool_choice=None, metadata={}, stream_options=None, store=None, max_tokens=2**62),
    chat(logprobs=False, functions=[], audio=None, prediction={}, top_logprobs=0, modalities=[]),  # sent empty
    chat(messages=[{"role": "system"}, {"role": "user", "content": "x" * 20_000, "tool_calls": []}]),
    chat(messages=[{"role": "user", "content": "ünïcødé ✓ 日本語 🙂", "extra": "dropped"}]),
    chat(messages=[{"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": {"type": "x"}}]}]),
    chat(tools=[{"type": "function", "function": {"name": "a-b_9", "description": "", "parameters": {}}, "x": 1}]),
    chat(response_format={"type": "text", "json_schema": {"name": "unused"}}, stop=[]),
    chat(messages=[{"role": "user", "content": "hi"}] * 500),
]
PLAIN_RESPONSES = [
    responses(),
    responses(
        input=[
            {"role": "system", "content": "Answer in French."},
            {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "Be brief."}]},
            {"role": "user", "content": [{"type": "input_text", "text": "a"}, {"type": "text", "text": "b"}]},
            {"role": "assistant", "content": [{"type": "output_text", "text": "c"}]},
            {"role": "user", "content": "and now?"},
        ],
        instructions="Be kind.",
        previous_response_id="resp_12_0af3",
        max_output_tokens=300,
        text={"format": {"type": "json_schema", "name": "answer", "schema": {"type": "object"}, "strict": True}},
        store=False,
        stream=True,
        metadata={"tag": "x"},
        temperature=0.2,
        top_p=0.9,
        user="u",
        seed=7,
    ),
    responses(text={"format": {"type": "json_object"}}, instructions="", store=None, tools=[], tool_choice=None),
    responses(text={}, instructions=None, previous_response_id=None, include=[], reasoning=None),
]
# Valid through DRF's coercions and trimming: the plain path leaves them to the serializer.
COERCED_CHAT = [
    chat(temperature="0.5"),
    chat(temperature=True),
    chat(stream="true"),
    chat(stream=1),
    chat(n="1"),
    chat(max_tokens=10.0),
    chat(model=" writer "),
    chat(model=5),
    chat(user=42),
    chat(metadata={"conversation_id": 7}),
    chat(metadata={"conversation_id": " 7 "}),
    chat(messages=[{"role": "user", "content": "hi", "name": " ann "}]),
    chat(tools=[{"type": "function", "function": {"name": " padded ", "description": " trimmed "}}]),
    chat(parallel_tool_calls="yes", store="0"),
]
COERCED_RESPONSES = [
    responses(instructions="  trimmed  "),
    responses(previous_response_id=" resp_3_ab "),
    responses(max_output_tokens="12", stream="false"),
]
INVALID_CHAT = [
    {},
    [],
    ["not", "an", "object"],
    "a string",
    None,
    {"messages": HI},
    chat(model=""),
    chat(model=None),
    chat(model=["writer"]),
    chat(model="x" * 81),
    {"model": "writer"},
    chat(messages=[]),
    chat(messages=None),
    chat(messages="hi"),
    chat(messages=[None]),
    chat(messages=["hi"]),
    chat(messages=[{"role": "user"}]),
    chat(messages=[{"content": "hi"}]),
    chat(messages=[{"role": "robot", "content": "hi"}]),
    chat(messages=[{"role": "user", "content": "   "}]),
    chat(messages=[{"role": "user", "content": "x" * 20_001}]),
    chat(messages=[{"role": "user", "content": "nul\x00"}]),
    chat(messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x"}}]}]),
    chat(messages=[{"role": "user", "content": [{"type": "text", "text": 5}]}]),
    chat(messages=[{"role": "user", "content": [["nested", "parts"]]}]),
    chat(messages=[{"role": "user", "content": {"text": "hi"}}]),
    chat(messages=[{"role": "user", "content": 5}]),
    chat(messages=[{"role": "assistant", "content": "only the assistant"}]),
    chat(messages=[{"role": "user", "content": "hi"}, {"role": "user", "content": ""}]),
    chat(messages=[{"role": "tool", "content": "42"}, *HI]),
    chat(messages=[{"role": "tool", "content": "42", "tool_call_id": ""}, *HI]),
    chat(messages=[{"role": "user", "content": "hi", "tool_calls": [CALL]}]),
    chat(messages=[{"role": "assistant", "tool_calls": None}, *HI]),
    chat(messages=[{"role": "assistant", "tool_calls": [{**CALL, "id": None}]}, *HI]),
    chat(messages=[{"role": "assistant", "tool_calls": [{**CALL, "type": "code"}]}, *HI]),
    chat(messages=[{"role": "assistant", "tool_calls": [{**CALL, "function": {"name": "bad name"}}]}, *HI]),
    chat(messages=[{"role": "assistant", "tool_calls": [{**CALL, "id": "x" * 201}]}, *HI]),
    chat(messages=[{"role": "user", "content": "hi", "name": ""}]),
    chat(messages=[{"role": "user", "content": "hi", "name": "x" * 65}]),
    chat(temperature=2.5),
    chat(temperature=-0.1),
    chat(temperature="hot"),
    chat(temperature=10**400),
    chat(temperature=[]),
    chat(top_p=1.5),
    chat(presence_penalty=-3),
    chat(frequency_penalty="x" * 1001),
    chat(seed="abc"),
    chat(seed=1.5),
    chat(seed=True),
    chat(n=2),
    chat(n=0),
    chat(max_tokens=0),
    chat(max_tokens=-5),
    chat(max_completion_tokens="many"),
    chat(user="x" * 257),
    chat(stop=["a", "b", "c", "d", "e"]),
    chat(stop=""),
    chat(stop=[""]),
    chat(stop=5),
    chat(stop=[1]),
    chat(response_format={"type": "xml"}),
    chat(response_format={"type": "json_schema"}),
    chat(response_format={"type": "json_schema", "json_schema": {"name": "bad name"}}),
    chat(response_format={"type": "json_schema", "json_schema": None}),
    chat(response_format={"type": "json_schema", "json_schema": {"name": "a", "description": ""}}),
    chat(response_format="json"),
    chat(tools="get_weather"),
    chat(tools=[{"type": "retrieval"}]),
    chat(tools=[{"type": "function", "function": {"name": "bad name"}}]),
    chat(tools=[{"type": "function", "function": {"name": "f", "parameters": None}}]),
    chat(tools=[{"type": "function", "function": {"name": f"f{i}"}} for i in range(MAX_TOOLS + 1)]),
    chat(tool_choice="sometimes"),
    chat(tool_choice="auto"),
    chat(tools=[WEATHER_TOOL], tool_choice={"type": "function", "function": {"name": "other"}}),
    chat(tools=[WEATHER_TOOL], tool_choice={"type": "function"}),
    chat(tools=[WEATHER_TOOL], tool_choice=["auto"]),
    chat(parallel_tool_calls="maybe"),
    chat(stream="maybe"),
    chat(stream=None),
    chat(store="perhaps"),
    chat(metadata="x"),
    chat(metadata={"conversation_id": "abc"}),
    chat(metadata={"conversation_id": ""}),
    chat(metadata={f"k{i}": "v" for i in range(17)}),
    chat(metadata={"k": "x" * 513}),
    chat(metadata={"k": None}),
    chat(stream_options="x"),
    chat(stream_options=[]),
    chat(logprobs=True),
    chat(functions=[{"name": "f"}]),
    chat(audio={"voice": "alloy"}),
]
INVALID_RESPONSES = [
    {},
    [],
    responses(input=None),
    responses(input=""),
    responses(input="   "),
    responses(input=[]),
    responses(input={"role": "user"}),
    responses(input="x" * 20_001),
    responses(input=[{"role": "tool", "content": "x"}]),
    responses(input=[{"role": "user"}]),
    responses(input=[{"role": "user", "content": None}]),
    responses(input=[{"role": "user", "content": [{"type": "input_image", "image_url": "x"}]}]),
    responses(input=[{"type": "function_call", "role": "user", "content": "hi"}]),
    responses(input=[{"role": "assistant", "content": "no user"}]),
    responses(input=[None]),
    responses(instructions="x" * 20_001),
    responses(previous_response_id="resp_x"),
    responses(max_output_tokens=0),
    responses(text={"format": {"type": "xml"}}),
    responses(text={"format": {"type": "json_schema"}}),
    responses(text={"format": None}),
    responses(text="json"),
    responses(tools=[WEATHER_TOOL]),
    responses(tool_choice="auto"),
    responses(store="x"),
    responses(model=None),
]
# Valid to the serializer, then the property the view reads fails (a 500 today): the plain path leaves them
# alone, so whatever happens still happens the same way.
SERIALIZER_QUIRKS_CHAT = [
    chat(tools=[None]),
    chat(tools=[None], tool_choice={"type": "function", "function": {"name": "f"}}),
    chat(tools=[WEATHER_TOOL], tool_choice={"type": "function", "function": ["get_weather"]}),
    chat(metadata={"conversation_id": "²"}),
]

# Property-style: each field, each nested key, replaced by each odd value.
ODD_VALUES = [
    None,
    True,
    False,
    0,
    1,
    -1,
    1.5,
    2,
    -2.5,
    2**63 + 1,
    10**30,
    "",
    " ",
    "x",
    " padded ",
    "0.5",
    "true",
    "1",
    "12",
    "function",
    "auto",
    "user",
    "text",
    "json_object",
    "nul\x00",
    "lone \ud800",
    "x" * 300,
    [],
    [None],
    ["x"],
    [""],
    ["a", "b", "c", "d", "e"],
    [{"type": "text", "text": "hi"}],
    [{"type": "input_text", "text": "hi"}],
    [{"role": "user", "content": "hi"}],
    [WEATHER_TOOL],
    {},
    {"x": 1},
    {"type": "text"},
    {"type": "function", "function": {"name": "get_weather"}},
    {"include_usage": True},
]
FULL_CHAT = PLAIN_CHAT[2]
FULL_RESPONSES = PLAIN_RESPONSES[1]
CHAT_PATHS = [
    *[(name,) for name in [*ChatCompletionInput._declared_fields, "logprobs"]],
    *[("messages", 2, key) for key in ("role", "content", "name", "tool_calls", "tool_call_id", "other")],
    *[("messages", 3, "tool_calls", 0, key) for key in ("id", "type", "function")],
    *[("messages", 3, "tool_calls", 0, "function", key) for key in ("name", "arguments")],
    ("messages", 2, "content", 0),
    ("messages", 2, "content", 1, "text"),
    ("messages", 2, "content", 1, "type"),
    ("messages", 4, "tool_call_id"),
    *[("tools", 0, key) for key in ("type", "function")],
    *[("tools", 0, "function", key) for key in ("name", "description", "parameters", "strict")],
    ("tools", 1),
    *[("tool_choice", key) for key in ("type", "function")],
    ("tool_choice", "function", "name"),
    ("metadata", "conversation_id"),
    ("metadata", "tag"),
    ("stream_options", "include_usage"),
    ("stop", 0),
    *[("response_format", key) for key in ("type", "json_schema")],
    *[("response_format", "json_schema", key) for key in ("name", "description", "schema", "strict")],
]
RESPONSES_PATHS = [
    *[(name,) for name in [*ResponsesInput._declared_fields, "tools", "tool_choice"]],
    *[("input", 1, key) for key in ("type", "role", "content")],
    ("input", 2, "content", 0, "type"),
    ("input", 2, "content", 1, "text"),
    ("input", 4),
    ("text", "format"),
    *[("text", "format", key) for key in ("type", "name", "schema")],
]


def _replaced(body: dict, path: tuple, value) -> dict:
    body = copy.deepcopy(body)
    parent = body
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return body


def _typed(value):
    """The value with every type and key order spelled out: 1 and 1.0, or {a, b} and {b, a}, differ."""
    if dataclasses.is_dataclass(value):
        return (type(value).__name__, _typed(dataclasses.asdict(value)))
    if isinstance(value, dict):
        return (type(value).__name__, [(key, _typed(item)) for key, item in value.items()])
    if isinstance(value, list | tuple):
        return (type(value).__name__, [_typed(item) for item in value])
    return (type(value).__name__, value)


def _raised(exc: Exception) -> tuple:
    return ("raised", type(exc).__name__, str(getattr(exc, "detail", exc)), getattr(exc, "extra", None))


def _read(serializer, name: str):
    try:
        return _typed(getattr(serializer, name))
    except Exception as exc:  # noqa: BLE001 (the same failure is the same result)
        return _raised(exc)


def _locks(serializer) -> list:
    refused = []
    for lock in LockableParameter:
        try:
            serializer.check_locks(PromptVersion(locked_parameters=[lock]))
        except Exception as exc:  # noqa: BLE001
            refused.append(_raised(exc))
        else:
            refused.append(None)
    return refused


def outcome(serializer_class, body) -> tuple:
    """Everything the views take from a validated request, or the error it fails with."""
    serializer = serializer_class(data=copy.deepcopy(body))
    try:
        valid = serializer.is_valid()
    except Exception as exc:  # noqa: BLE001 (UnsupportedParameter is raised, not collected)
        return _raised(exc)
    if not valid:
        return ("invalid", _typed(serializer.errors))
    properties = ("agent_input", "wire_messages", "options", "keeps_exchange", "conversation_id")
    return (
        "valid",
        _typed(serializer.validated_data),
        [_read(serializer, name) for name in properties],
        _locks(serializer),
    )


ENDPOINTS = {
    "chat": (FastChatCompletionInput, ChatCompletionInput),
    "responses": (FastResponsesInput, ResponsesInput),
}


@pytest.mark.parametrize("body", PLAIN_CHAT)
def test_common_chat_requests_take_the_plain_path_to_the_serializers_result(body):
    assert FastChatCompletionInput().plainly_valid(copy.deepcopy(body)) is not None
    assert outcome(FastChatCompletionInput, body) == outcome(ChatCompletionInput, body)


@pytest.mark.parametrize("body", PLAIN_RESPONSES)
def test_common_responses_requests_take_the_plain_path_to_the_serializers_result(body):
    assert FastResponsesInput().plainly_valid(copy.deepcopy(body)) is not None
    assert outcome(FastResponsesInput, body) == outcome(ResponsesInput, body)


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [("chat", body) for body in COERCED_CHAT + INVALID_CHAT + SERIALIZER_QUIRKS_CHAT]
    + [("responses", body) for body in COERCED_RESPONSES + INVALID_RESPONSES],
)
def test_anything_else_is_the_serializers_to_judge(endpoint, body):
    fast, serializer = ENDPOINTS[endpoint]

    assert fast().plainly_valid(copy.deepcopy(body)) is None
    assert outcome(fast, body) == outcome(serializer, body)


@pytest.mark.parametrize("path", CHAT_PATHS, ids=lambda path: ".".join(map(str, path)))
def test_any_odd_chat_value_validates_as_the_serializer_says(path):
    for value in ODD_VALUES:
        body = _replaced(FULL_CHAT, path, value)
        assert outcome(FastChatCompletionInput, body) == outcome(ChatCompletionInput, body), (path, value)


@pytest.mark.parametrize("path", RESPONSES_PATHS, ids=lambda path: ".".join(map(str, path)))
def test_any_odd_responses_value_validates_as_the_serializer_says(path):
    for value in ODD_VALUES:
        body = _replaced(FULL_RESPONSES, path, value)
        assert outcome(FastResponsesInput, body) == outcome(ResponsesInput, body), (path, value)


def test_some_odd_values_do_take_the_plain_path():
    """The property tests above compare something: plainly valid variants are among them."""
    vouched = [
        (path, value)
        for path in CHAT_PATHS
        for value in ODD_VALUES
        if FastChatCompletionInput().plainly_valid(_replaced(FULL_CHAT, path, value)) is not None
    ]

    assert len(vouched) > len(CHAT_PATHS)


# Over HTTP: the answer the serializer's error (or the lock it refuses) makes, body and status.


def _expected_answer(serializer_class, body, version: PromptVersion) -> tuple[int, dict]:
    serializer = serializer_class(data=copy.deepcopy(body))
    try:
        serializer.is_valid(raise_exception=True)
        serializer.check_locks(version)
    except Exception as exc:  # noqa: BLE001
        response = openai_exception_handler(exc, {})
        return response.status_code, json.loads(json.dumps(response.data))
    raise AssertionError(f"{body!r} is valid")


@pytest.fixture
def api(api_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")
    return client


@pytest.mark.django_db(transaction=True)
def test_every_invalid_body_answers_the_serializers_400(api, upstream_agent):
    version = upstream_agent.prompt_versions.get(status="active")
    cases = [(CHAT, ChatCompletionInput, body) for body in INVALID_CHAT]
    cases += [(RESPONSES, ResponsesInput, body) for body in INVALID_RESPONSES]
    for path, serializer_class, body in cases:
        response = api.post(path, json.dumps(body), content_type="application/json")

        expected = _expected_answer(serializer_class, body, version)
        assert expected[0] == 400, body
        assert (response.status_code, response.json()) == expected, body


@pytest.mark.django_db(transaction=True)
def test_a_locked_parameter_answers_the_serializers_400(api, upstream_agent):
    locked = [LockableParameter.TEMPERATURE, LockableParameter.TOOLS, LockableParameter.STOP]
    upstream_agent.prompt_versions.filter(status="active").update(locked_parameters=locked)
    version = upstream_agent.prompt_versions.get(status="active")
    cases = [
        (CHAT, ChatCompletionInput, chat(temperature=0.5)),
        (CHAT, ChatCompletionInput, chat(tools=[WEATHER_TOOL], tool_choice="auto")),
        (CHAT, ChatCompletionInput, chat(stop="END")),
        (RESPONSES, ResponsesInput, responses(temperature=1)),
    ]
    for path, serializer_class, body in cases:
        response = api.post(path, json.dumps(body), content_type="application/json")

        expected = _expected_answer(serializer_class, body, version)
        assert expected[0] == 400, body
        assert (response.status_code, response.json()) == expected, body
