"""What the OpenAI-compatible endpoints accept, validated with OpenAI's own ranges, and how it becomes a
runtime call: the client's messages (`runtime.prepare` puts the agent's prompt first) and CallOptions.

A parameter we cannot honour is a 400 naming it, never silently dropped; a parameter the agent's
prompt version locks is a 400 too. Chat Completions and the Responses API share the option fields.
The endpoints validate with `FastChatCompletionInput` / `FastResponsesInput`: these serializers with
plain checks first for the common, well-formed request (agents/openai_plain_input.py).
"""

import re

from rest_framework import serializers

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
        function = data.get("function") if isinstance(data, dict) else None
        name = function.get("name") if isinstance(function, dict) else None
        if not (isinstance(name, str) and data.get("type") == "function"):
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
        if conversation_id is not None and not (conversation_id.isascii() and conversation_id.isdigit()):
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
        if None in tools:
            raise serializers.ValidationError({"tools": "each tool must be a function definition, not null"})
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
