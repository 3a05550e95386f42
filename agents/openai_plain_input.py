"""The OpenAI endpoints' plain validation: the common, well-formed request checked by plain functions;
anything they cannot vouch for goes through the serializers of `agents.openai_requests`, unchanged.

DRF's field machinery (every field deep-copied for each request, then a run_validation
per field and per nested field) cost 0.4-0.8 ms of CPU per call, the plain checks ~0.02 ms. Each check
accepts only a value its field keeps as it is (or converts as the field does: a temperature of 1 is 1.0)
and raises `_Doubt` for anything else, which sends the whole body through the serializer, so errors and
DRF's coercions stay the serializer's own. agents/tests/openai/test_plain_validation.py holds the two
paths equal.
"""

import re
from collections.abc import Callable

from rest_framework import serializers
from rest_framework.fields import empty

from agents.openai_requests import (
    EMPTY_VALUES,
    MAX_STOP_SEQUENCES,
    MAX_TOOLS,
    METADATA_KEYS,
    METADATA_VALUE_CHARS,
    RESPONSE_ID,
    TOOL_NAME,
    ChatCompletionInput,
    ChatMessage,
    FunctionCall,
    FunctionDefinition,
    InputItem,
    JsonSchemaFormat,
    ResponseFormat,
    ResponsesInput,
    TextOptions,
    ToolCall,
    ToolDefinition,
    checked_text,
    text_format,
    text_of,
)
from agents.serializers import MAX_INPUT_CHARS


class _Doubt(Exception):
    """The plain check cannot vouch for a value: the serializer decides."""


Check = Callable[[object], object]
PLAIN_INT_LIMIT = 2**63  # integers beyond this go to the serializer


def _string(max_length: int | None = None, *, blank: bool = False, trim: bool = True) -> Check:
    """What a CharField keeps as it is: a str within max_length, without NUL or lone surrogates, not
    blank unless allowed, without surrounding whitespace when the field trims it."""

    def check(value):
        if type(value) is not str or "\x00" in value or (max_length is not None and len(value) > max_length):
            raise _Doubt
        if (not value and not blank) or (trim and value != value.strip()):
            raise _Doubt
        try:
            value.encode()
        except UnicodeEncodeError:
            raise _Doubt from None
        return value

    return check


def _matching(pattern: re.Pattern) -> Check:
    """A RegexField's value: a str the pattern matches whole (so nothing to trim)."""

    def check(value):
        if type(value) is not str or not pattern.fullmatch(value):
            raise _Doubt
        return value

    return check


def _choice(*choices: str) -> Check:
    def check(value):
        if type(value) is not str or value not in choices:
            raise _Doubt
        return value

    return check


def _number(low: float, high: float) -> Check:
    """A FloatField's value from JSON: an int or a finite float within the range, as a float."""

    def check(value):
        if type(value) not in (int, float) or not low <= value <= high:
            raise _Doubt
        return float(value)

    return check


def _integer(low: int = -PLAIN_INT_LIMIT, high: int = PLAIN_INT_LIMIT) -> Check:
    def check(value):
        if type(value) is not int or not low <= value <= high:
            raise _Doubt
        return value

    return check


def _boolean(value):
    if type(value) is not bool:
        raise _Doubt
    return value


def _nullable(check: Check) -> Check:
    def nullable(value):
        return None if value is None else check(value)

    return nullable


def _dict(value):
    """A DictField of anything: a copy."""
    if type(value) is not dict or not all(type(key) is str for key in value):
        raise _Doubt
    return dict(value)


def _list_of(check: Check, *, allow_empty: bool = True) -> Check:
    def checked(value):
        if type(value) is not list or not (value or allow_empty):
            raise _Doubt
        return [check(item) for item in value]

    return checked


def _fields(value, checks: dict[str, Check], *, required: tuple[str, ...] = (), defaults: dict | None = None) -> dict:
    """A serializer's validated dict: its fields in order (the checks are), unknown keys dropped."""
    if type(value) is not dict:
        raise _Doubt
    validated = {}
    for name, check in checks.items():
        if name in value:
            validated[name] = check(value[name])
        elif name in required:
            raise _Doubt
        elif defaults and name in defaults:
            validated[name] = defaults[name]
    return validated


def _in_field_order(serializer_class: type[serializers.Serializer], checks: dict[str, Check]) -> dict[str, Check]:
    """The checks in the order of the serializer's fields; a field without a check fails at import."""
    return {name: checks[name] for name in serializer_class._declared_fields}


def _nested(serializer_class: type[serializers.Serializer], checks: dict[str, Check], *required: str) -> Check:
    ordered = _in_field_order(serializer_class, checks)
    return lambda value: _fields(value, ordered, required=required)


def _content(*part_types: str, allow_null: bool = True) -> Check:
    def check(value):
        if value is None and not allow_null:
            raise _Doubt
        try:
            return text_of(value, part_types=part_types)
        except serializers.ValidationError:
            raise _Doubt from None

    return check


def _text(value):
    try:
        return checked_text(value)
    except serializers.ValidationError:
        raise _Doubt from None


def _tool_choice(value):
    if value is None or (type(value) is str and value in ("none", "auto", "required")):
        return value
    if type(value) is not dict or value.get("type") != "function":
        raise _Doubt
    function = value.get("function")
    if type(function) is not dict or type(function.get("name")) is not str:
        raise _Doubt
    return {"type": "function", "function": {"name": function["name"]}}


def _stop(value):
    stops = [value] if type(value) is str else value
    if type(stops) is not list or len(stops) > MAX_STOP_SEQUENCES or not all(type(s) is str and s for s in stops):
        raise _Doubt
    return stops


_metadata_value = _string(METADATA_VALUE_CHARS, blank=True)


def _metadata(value):
    if type(value) is not dict or len(value) > METADATA_KEYS or not all(type(key) is str for key in value):
        raise _Doubt
    metadata = {key: _metadata_value(item) for key, item in value.items()}
    conversation_id = metadata.get("conversation_id")
    if conversation_id is not None and not (conversation_id.isascii() and conversation_id.isdigit()):
        raise _Doubt
    return metadata


_tool = _nested(
    ToolDefinition,
    {
        "type": _choice("function"),
        "function": _nested(
            FunctionDefinition,
            {
                "name": _matching(TOOL_NAME),
                "description": _string(blank=True),
                "parameters": _dict,
                "strict": _nullable(_boolean),
            },
            "name",
        ),
    },
    "type",
    "function",
)
_tool_call = _nested(
    ToolCall,
    {
        "id": _string(200),
        "type": _choice("function"),
        "function": _nested(
            FunctionCall,
            {"name": _matching(TOOL_NAME), "arguments": _string(blank=True, trim=False)},
            "name",
            "arguments",
        ),
    },
    "id",
    "type",
    "function",
)
_MESSAGE = _in_field_order(
    ChatMessage,
    {
        "role": _choice("system", "developer", "user", "assistant", "tool"),
        "content": _content("text"),
        "name": _string(64),
        "tool_calls": _list_of(_tool_call),
        "tool_call_id": _string(200),
    },
)


def _message(value):
    message = _fields(value, _MESSAGE, required=("role",), defaults={"content": ""})
    if message["role"] == "tool" and not message.get("tool_call_id"):
        raise _Doubt
    if message.get("tool_calls") and message["role"] != "assistant":
        raise _Doubt
    return message


_json_schema_format = _nested(
    JsonSchemaFormat,
    {"name": _matching(TOOL_NAME), "description": _string(), "schema": _dict, "strict": _nullable(_boolean)},
    "name",
)
_RESPONSE_FORMAT = _in_field_order(
    ResponseFormat, {"type": _choice("text", "json_object", "json_schema"), "json_schema": _json_schema_format}
)


def _response_format(value):
    response_format = _fields(value, _RESPONSE_FORMAT, required=("type",))
    if response_format["type"] == "json_schema" and "json_schema" not in response_format:
        raise _Doubt
    return response_format


MODEL_OPTIONS = {
    "model": _string(80),
    "temperature": _nullable(_number(0, 2)),
    "top_p": _nullable(_number(0, 1)),
    "seed": _nullable(_integer()),
    "presence_penalty": _nullable(_number(-2, 2)),
    "frequency_penalty": _nullable(_number(-2, 2)),
    "user": _nullable(_string(256, blank=True)),
    "tools": _nullable(_list_of(_tool)),
    "tool_choice": _tool_choice,
    "parallel_tool_calls": _nullable(_boolean),
    "stream": _boolean,
    "store": _nullable(_boolean),
    "metadata": _nullable(_metadata),
}


def _plain_body(data, checks: dict[str, Check], *required: str) -> dict:
    """ModelOptions' own checks: an unknown parameter with a value is refused, then ModelOptions.validate."""
    if type(data) is not dict:
        raise _Doubt
    for name, value in data.items():
        if name not in checks and value not in EMPTY_VALUES:
            raise _Doubt
    validated = _fields(data, checks, required=("model", *required), defaults={"stream": False})
    tools = validated.get("tools") or []
    choice = validated.get("tool_choice")
    if len(tools) > MAX_TOOLS or (choice is not None and not tools):
        raise _Doubt
    if isinstance(choice, dict) and choice["function"]["name"] not in {t["function"]["name"] for t in tools}:
        raise _Doubt
    return validated


_CHAT_COMPLETION = _in_field_order(
    ChatCompletionInput,
    {
        **MODEL_OPTIONS,
        "messages": _list_of(_message, allow_empty=False),
        "stream_options": _nullable(_dict),
        "n": _nullable(_integer(1, 1)),
        "max_tokens": _nullable(_integer(1)),
        "max_completion_tokens": _nullable(_integer(1)),
        "stop": _nullable(_stop),
        "response_format": _nullable(_response_format),
    },
)


def plain_chat_completion(data) -> dict:
    """What `ChatCompletionInput(data=data)` validates to, for a request the plain checks vouch for."""
    validated = _plain_body(data, _CHAT_COMPLETION, "messages")
    user_texts = [message["content"] for message in validated["messages"] if message["role"] == "user"]
    if not user_texts or not user_texts[-1].strip():
        raise _Doubt
    return validated


_input_item = _nested(
    InputItem,
    {
        "type": _choice("message"),
        "role": _choice("system", "developer", "user", "assistant"),
        "content": _content("input_text", "output_text", "text", allow_null=False),
    },
    "role",
    "content",
)


def _responses_input(value):
    if type(value) is str:
        items = [{"role": "user", "content": _text(value)}]
    elif type(value) is list and value:
        items = [{"role": item["role"], "content": item["content"]} for item in map(_input_item, value)]
    else:
        raise _Doubt
    users = [item["content"] for item in items if item["role"] == "user"]
    if not users or not users[-1].strip():
        raise _Doubt
    return items


def _text_format(value):
    try:
        return text_format(_dict(value))
    except serializers.ValidationError:
        raise _Doubt from None


_RESPONSES = _in_field_order(
    ResponsesInput,
    {
        **MODEL_OPTIONS,
        "input": _responses_input,
        "instructions": _nullable(_string(MAX_INPUT_CHARS, blank=True)),
        "previous_response_id": _nullable(_matching(RESPONSE_ID)),
        "max_output_tokens": _nullable(_integer(1)),
        "text": _nullable(_nested(TextOptions, {"format": _text_format})),
    },
)


def plain_responses(data) -> dict:
    """What `ResponsesInput(data=data)` validates to, for a request the plain checks vouch for."""
    return _plain_body(data, _RESPONSES, "input")


class PlainFirst:
    """A serializer that validates the common, well-formed request with its plain check (`plain`) and
    anything the check cannot vouch for as the serializer always has: same validated data, same errors."""

    plain: Callable[[object], dict]

    def run_validation(self, data=empty):
        validated = self.plainly_valid(data)
        return validated if validated is not None else super().run_validation(data)

    def plainly_valid(self, data) -> dict | None:
        try:
            return self.plain(data)
        except _Doubt:
            return None


class FastChatCompletionInput(PlainFirst, ChatCompletionInput):
    """What the endpoint validates with; `ChatCompletionInput` stays the reference (and the schema)."""

    plain = staticmethod(plain_chat_completion)


class FastResponsesInput(PlainFirst, ResponsesInput):
    plain = staticmethod(plain_responses)
