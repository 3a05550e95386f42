"""What the OpenAI-compatible endpoints accept, validated with OpenAI's own ranges, and how it becomes a
runtime call: the client's messages (`runtime.prepare` puts the agent's prompt first) and CallOptions.

A parameter we cannot honour is a 400 naming it, never silently dropped; a parameter the agent's
prompt version locks is a 400 too. Chat Completions and the Responses API share the option fields.
The endpoints validate with `FastChatCompletionInput` / `FastResponsesInput`: the serializers below with
plain checks first for the common, well-formed request (the end of this module).
"""

import re
from collections.abc import Callable

from rest_framework import serializers
from rest_framework.fields import empty

from agents.errors import AgentErrorCode
from agents.runtime import CallOptions
from agents.serializers import MAX_INPUT_CHARS
from botgeneric.errors import DomainError
from prompts.models import LockableParameter, PromptVersion

MAX_TOOLS = 128
MAX_STOP_SEQUENCES = 4
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
METADATA_KEYS = 16
METADATA_VALUE_CHARS = 512
# An unknown parameter sent with one of these values asks for nothing (some clients send them all).
EMPTY_VALUES = (None, False, [], {})
# Which lock covers which request parameter.
LOCKED_BY = {
    "temperature": LockableParameter.TEMPERATURE,
    "top_p": LockableParameter.TOP_P,
    "max_tokens": LockableParameter.MAX_TOKENS,
    "max_completion_tokens": LockableParameter.MAX_TOKENS,
    "max_output_tokens": LockableParameter.MAX_TOKENS,
    "stop": LockableParameter.STOP,
    "seed": LockableParameter.SEED,
    "presence_penalty": LockableParameter.PRESENCE_PENALTY,
    "frequency_penalty": LockableParameter.FREQUENCY_PENALTY,
    "response_format": LockableParameter.RESPONSE_FORMAT,
    "text": LockableParameter.RESPONSE_FORMAT,
    "tools": LockableParameter.TOOLS,
    "tool_choice": LockableParameter.TOOLS,
    "parallel_tool_calls": LockableParameter.TOOLS,
}


class UnsupportedParameter(DomainError):
    code = AgentErrorCode.UNSUPPORTED_PARAMETER
    http_status = 400


class LockedParameter(DomainError):
    code = AgentErrorCode.PARAMETER_LOCKED
    http_status = 400


def checked_text(text: str) -> str:
    """The caps of the REST invoke's input, checked before anything is sent upstream."""
    if len(text) > MAX_INPUT_CHARS:
        raise serializers.ValidationError(f"must be at most {MAX_INPUT_CHARS} characters")
    if "\x00" in text:
        raise serializers.ValidationError("must not contain NUL characters")
    return text


def text_of(content, *, part_types: tuple[str, ...] = ("text",)) -> str:
    """A string, or a list of text parts joined by newlines; anything else is refused."""
    if content is None or isinstance(content, str):
        return checked_text(content or "")
    if not isinstance(content, list):
        raise serializers.ValidationError("must be a string or a list of content parts")
    texts = []
    for part in content:
        if not isinstance(part, dict) or part.get("type") not in part_types or not isinstance(part.get("text"), str):
            raise serializers.ValidationError("only text content parts are supported")
        texts.append(part["text"])
    return checked_text("\n".join(texts))


class FunctionCall(serializers.Serializer):
    name = serializers.RegexField(TOOL_NAME)
    arguments = serializers.CharField(allow_blank=True, trim_whitespace=False)


class ToolCall(serializers.Serializer):
    id = serializers.CharField(max_length=200)
    type = serializers.ChoiceField(choices=["function"])
    function = FunctionCall()


class ChatMessage(serializers.Serializer):
    role = serializers.ChoiceField(choices=["system", "developer", "user", "assistant", "tool"])
    content = serializers.JSONField(required=False, allow_null=True, default="")
    name = serializers.CharField(required=False, max_length=64)
    tool_calls = ToolCall(many=True, required=False)
    tool_call_id = serializers.CharField(required=False, max_length=200)

    def validate_content(self, content):
        return text_of(content)

    def validate(self, attrs):
        if attrs["role"] == "tool" and not attrs.get("tool_call_id"):
            raise serializers.ValidationError({"tool_call_id": "a tool message needs the id of the call it answers"})
        if attrs.get("tool_calls") and attrs["role"] != "assistant":
            raise serializers.ValidationError({"tool_calls": "only assistant messages carry tool calls"})
        return attrs

    @staticmethod
    def wire(message: dict) -> dict:
        """The message as the provider gets it (`developer` is `system` to every OpenAI-compatible server)."""
        role = "system" if message["role"] == "developer" else message["role"]
        wire = {"role": role, "content": message["content"]}
        if message.get("tool_calls"):
            wire["tool_calls"] = [dict(call, function=dict(call["function"])) for call in message["tool_calls"]]
            wire["content"] = message["content"] or None
        for key in ("tool_call_id", "name"):
            if message.get(key):
                wire[key] = message[key]
        return wire


class JsonSchemaFormat(serializers.Serializer):
    name = serializers.RegexField(TOOL_NAME)
    description = serializers.CharField(required=False)
    schema = serializers.DictField(required=False)
    strict = serializers.BooleanField(required=False, allow_null=True)


class ResponseFormat(serializers.Serializer):
    type = serializers.ChoiceField(choices=["text", "json_object", "json_schema"])
    json_schema = JsonSchemaFormat(required=False)

    def validate(self, attrs):
        if attrs["type"] == "json_schema" and "json_schema" not in attrs:
            raise serializers.ValidationError({"json_schema": "required with type json_schema"})
        return attrs


class FunctionDefinition(serializers.Serializer):
    name = serializers.RegexField(TOOL_NAME, error_messages={"invalid": "a-z, A-Z, 0-9, _ and -, at most 64"})
    description = serializers.CharField(required=False, allow_blank=True)
    parameters = serializers.DictField(required=False)
    strict = serializers.BooleanField(required=False, allow_null=True)


class ToolDefinition(serializers.Serializer):
    type = serializers.ChoiceField(choices=["function"])
    function = FunctionDefinition()


class ToolChoiceField(serializers.JSONField):
    """ "none", "auto", "required", or {"type": "function", "function": {"name": ...}}."""

    def to_internal_value(self, data):
        data = super().to_internal_value(data)
        if data in ("none", "auto", "required"):
            return data
        name = (data.get("function") or {}).get("name") if isinstance(data, dict) else None
        if not (isinstance(data, dict) and data.get("type") == "function" and isinstance(name, str)):
            raise serializers.ValidationError('must be "none", "auto", "required" or a function to call')
        return {"type": "function", "function": {"name": name}}


class StopField(serializers.JSONField):
    def to_internal_value(self, data):
        data = super().to_internal_value(data)
        stops = [data] if isinstance(data, str) else data
        if not isinstance(stops, list) or not all(isinstance(stop, str) and stop for stop in stops):
            raise serializers.ValidationError("must be a string or a list of strings")
        if len(stops) > MAX_STOP_SEQUENCES:
            raise serializers.ValidationError(f"at most {MAX_STOP_SEQUENCES} stop sequences")
        return stops


class MetadataField(serializers.DictField):
    child = serializers.CharField(max_length=METADATA_VALUE_CHARS, allow_blank=True)

    def to_internal_value(self, data):
        data = super().to_internal_value(data)
        if len(data) > METADATA_KEYS:
            raise serializers.ValidationError(f"at most {METADATA_KEYS} keys")
        conversation_id = data.get("conversation_id")
        if conversation_id is not None and not conversation_id.isdigit():
            raise serializers.ValidationError({"conversation_id": "must be the id of a stored conversation"})
        return data


class ModelOptions(serializers.Serializer):
    """The sampling, tool and output-format parameters both APIs share, with OpenAI's ranges."""

    model = serializers.CharField(max_length=80, help_text="The agent's slug (see GET models).")
    temperature = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=2)
    top_p = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=1)
    seed = serializers.IntegerField(required=False, allow_null=True)
    presence_penalty = serializers.FloatField(required=False, allow_null=True, min_value=-2, max_value=2)
    frequency_penalty = serializers.FloatField(required=False, allow_null=True, min_value=-2, max_value=2)
    user = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=256)
    tools = ToolDefinition(many=True, required=False, allow_null=True)
    tool_choice = ToolChoiceField(required=False, allow_null=True)
    parallel_tool_calls = serializers.BooleanField(required=False, allow_null=True)
    stream = serializers.BooleanField(required=False, default=False)
    store = serializers.BooleanField(
        required=False, allow_null=True, help_text="Store the exchange as a conversation (default: not stored)."
    )
    metadata = MetadataField(
        required=False,
        allow_null=True,
        help_text="`conversation_id`: continue a stored conversation (its messages come before the ones sent).",
    )

    def to_internal_value(self, data):
        """A parameter we do not know (logprobs, audio, functions, …) with a value is refused by name;
        sent empty (`null`, `false`, `[]`), as some clients do, it asks for nothing."""
        if isinstance(data, dict):
            for name, value in data.items():
                if name not in self.fields and value not in EMPTY_VALUES:
                    raise UnsupportedParameter(
                        detail=f"`{name}` is not supported by this endpoint.", extra={"param": name}
                    )
        return super().to_internal_value(data)

    def validate(self, attrs):
        tools = attrs.get("tools") or []
        if len(tools) > MAX_TOOLS:
            raise serializers.ValidationError({"tools": f"at most {MAX_TOOLS} tools"})
        choice = attrs.get("tool_choice")
        if choice is not None and not tools:
            raise serializers.ValidationError({"tool_choice": "is only allowed when tools are given"})
        if isinstance(choice, dict) and choice["function"]["name"] not in {t["function"]["name"] for t in tools}:
            raise serializers.ValidationError({"tool_choice": "names a function that is not in tools"})
        return attrs

    def check_locks(self, version: PromptVersion) -> None:
        """A parameter the agent's prompt version locks may not be sent (its own value applies)."""
        locked = set(version.locked_parameters or [])
        for name, lock in LOCKED_BY.items():
            if lock in locked and self.initial_data.get(name) is not None:
                raise LockedParameter(
                    detail=f"`{name}` is fixed by this model's operator and cannot be set.", extra={"param": name}
                )

    @property
    def keeps_exchange(self) -> bool:
        data = self.validated_data
        return bool(data.get("store")) or self.conversation_id is not None

    @property
    def conversation_id(self) -> int | None:
        value = (self.validated_data.get("metadata") or {}).get("conversation_id")
        return int(value) if value is not None else None

    def call_options(self, *, max_tokens: int | None, response_format: dict | None) -> CallOptions:
        data = self.validated_data
        tools = [{"type": "function", "function": dict(tool["function"])} for tool in data.get("tools") or []]
        return CallOptions(
            temperature=data.get("temperature"),
            top_p=data.get("top_p"),
            max_tokens=max_tokens,
            stop=data.get("stop"),
            seed=data.get("seed"),
            presence_penalty=data.get("presence_penalty"),
            frequency_penalty=data.get("frequency_penalty"),
            user=data.get("user") or None,
            response_format=response_format if (response_format or {}).get("type") != "text" else None,
            tools=tools or None,
            tool_choice=data.get("tool_choice") if tools else None,
            parallel_tool_calls=data.get("parallel_tool_calls") if tools else None,
        )


class ChatCompletionInput(ModelOptions):
    messages = ChatMessage(many=True, allow_empty=False)
    stream_options = serializers.DictField(required=False, allow_null=True)
    n = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=1)
    max_tokens = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    max_completion_tokens = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    stop = StopField(required=False, allow_null=True)
    response_format = ResponseFormat(required=False, allow_null=True)

    def validate_messages(self, messages):
        user_texts = [message["content"] for message in messages if message["role"] == "user"]
        if not user_texts or not user_texts[-1].strip():
            raise serializers.ValidationError("the last user message is the agent's input and must not be empty")
        return messages

    @property
    def agent_input(self) -> str:
        return [m["content"] for m in self.validated_data["messages"] if m["role"] == "user"][-1]

    @property
    def wire_messages(self) -> list[dict]:
        return [ChatMessage.wire(message) for message in self.validated_data["messages"]]

    @property
    def options(self) -> CallOptions:
        data = self.validated_data
        max_tokens = data.get("max_completion_tokens") or data.get("max_tokens")
        return self.call_options(max_tokens=max_tokens, response_format=data.get("response_format"))


RESPONSE_ID = re.compile(r"^resp_(\d+)_[0-9a-f]+$")


class InputItem(serializers.Serializer):
    """A Responses API input message; only text content reaches an agent."""

    type = serializers.ChoiceField(choices=["message"], required=False)
    role = serializers.ChoiceField(choices=["system", "developer", "user", "assistant"])
    content = serializers.JSONField()

    def validate_content(self, content):
        return text_of(content, part_types=("input_text", "output_text", "text"))


class TextOptions(serializers.Serializer):
    """`text.format`: the Responses API's structured output (`response_format` of Chat Completions)."""

    format = serializers.DictField(required=False)

    def validate_format(self, value):
        return text_format(value)


def text_format(value: dict) -> dict:
    """`text.format` as `response_format`: text, json_object, or json_schema with a name."""
    kind = value.get("type")
    if kind in ("text", "json_object"):
        return {"type": kind}
    if kind != "json_schema":
        raise serializers.ValidationError('type must be "text", "json_object" or "json_schema"')
    if not isinstance(value.get("name"), str) or not TOOL_NAME.match(value["name"]):
        raise serializers.ValidationError("json_schema needs a name (a-z, A-Z, 0-9, _ and -, at most 64)")
    schema = {key: value[key] for key in ("name", "schema", "strict", "description") if key in value}
    return {"type": "json_schema", "json_schema": schema}


class ResponsesInput(ModelOptions):
    """The Responses API for text in and out (no tools): `input` a string or a list of messages."""

    tools = None
    tool_choice = None
    parallel_tool_calls = None
    input = serializers.JSONField()
    instructions = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=MAX_INPUT_CHARS)
    previous_response_id = serializers.RegexField(RESPONSE_ID, required=False, allow_null=True)
    max_output_tokens = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    text = TextOptions(required=False, allow_null=True)
    store = serializers.BooleanField(
        required=False,
        allow_null=True,
        help_text="Store the response so `previous_response_id` can continue it (the default).",
    )

    def validate_input(self, value):
        if isinstance(value, str):
            items = [{"role": "user", "content": checked_text(value)}]
        elif isinstance(value, list) and value:
            serializer = InputItem(data=value, many=True)
            if not serializer.is_valid():
                raise serializers.ValidationError(serializer.errors)
            items = [{"role": item["role"], "content": item["content"]} for item in serializer.validated_data]
        else:
            raise serializers.ValidationError("must be a string or a non-empty list of messages")
        users = [item["content"] for item in items if item["role"] == "user"]
        if not users or not users[-1].strip():
            raise serializers.ValidationError("the last user message is the agent's input and must not be empty")
        return items

    @property
    def keeps_exchange(self) -> bool:
        return self.validated_data.get("store") is not False

    @property
    def conversation_id(self) -> int | None:
        previous = self.validated_data.get("previous_response_id")
        return int(RESPONSE_ID.match(previous).group(1)) if previous else None

    @property
    def agent_input(self) -> str:
        return [item["content"] for item in self.validated_data["input"] if item["role"] == "user"][-1]

    @property
    def wire_messages(self) -> list[dict]:
        instructions = self.validated_data.get("instructions")
        first = [{"role": "system", "content": instructions}] if instructions else []
        return first + [ChatMessage.wire(item) for item in self.validated_data["input"]]

    @property
    def options(self) -> CallOptions:
        data = self.validated_data
        response_format = (data.get("text") or {}).get("format")
        return self.call_options(max_tokens=data.get("max_output_tokens"), response_format=response_format)


# The plain path. DRF's field machinery (every field deep-copied for each request, then a run_validation
# per field and per nested field) cost 0.4-0.8 ms of CPU per call, the plain checks ~0.02 ms. Each check
# accepts only a value its field keeps as it is (or converts as the field does: a temperature of 1 is 1.0)
# and raises `_Doubt` for anything else, which sends the whole body through the serializer, so errors and
# DRF's coercions stay the serializer's own. agents/tests/openai/test_plain_validation.py holds the two
# paths equal.


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
