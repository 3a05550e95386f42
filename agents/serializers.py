"""Shapes of the agent API (SPEC §7). Validation only; the invoke service does the work."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agents.models import Agent, Conversation, Message

MAX_INPUT_CHARS = 20_000
MAX_VARIABLES = 20
MAX_VARIABLE_NAME_CHARS = 64
MAX_VARIABLE_VALUE_CHARS = 2_000


class InvokeInput(serializers.Serializer):
    input = serializers.CharField(min_length=1, max_length=MAX_INPUT_CHARS, trim_whitespace=False)
    variables = serializers.DictField(
        child=serializers.CharField(max_length=MAX_VARIABLE_VALUE_CHARS, allow_blank=True, trim_whitespace=False),
        required=False,
        default=dict,
    )
    conversation_id = serializers.IntegerField(required=False, min_value=1)
    stream = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Answer as Server-Sent Events while the model writes (same as `Accept: text/event-stream`).",
    )

    def validate_input(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("Write something to send.")
        return value

    def validate_variables(self, value: dict) -> dict:
        if len(value) > MAX_VARIABLES:
            raise serializers.ValidationError(f"At most {MAX_VARIABLES} variables.")
        for name in value:
            if not name.isidentifier() or len(name) > MAX_VARIABLE_NAME_CHARS:
                raise serializers.ValidationError(f"{name[:MAX_VARIABLE_NAME_CHARS]!r} is not a valid variable name.")
        return value


def validated_invoke_input(data) -> dict:
    """What `InvokeInput(data=data)` validates to, raising the same ValidationError.

    A plain check first, for the common, well-formed call: the serializer's field machinery cost ~0.5 ms
    of CPU per invoke. Anything it does not accept as plainly valid goes through `InvokeInput`, so errors
    (and the coercions DRF allows, such as `"stream": "true"`) stay exactly the serializer's.
    """
    plain = _plainly_valid(data)
    if plain is not None:
        return plain
    serializer = InvokeInput(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _plainly_valid(data) -> dict | None:
    if type(data) is not dict:
        return None
    text, variables = data.get("input"), data.get("variables", {})
    conversation_id, stream = data.get("conversation_id"), data.get("stream", False)
    if not (type(text) is str and _plain_text(text, MAX_INPUT_CHARS) and text.strip()):
        return None
    if type(variables) is not dict or len(variables) > MAX_VARIABLES:
        return None
    for name, value in variables.items():
        plain_name = type(name) is str and name.isidentifier() and len(name) <= MAX_VARIABLE_NAME_CHARS
        if not (plain_name and type(value) is str and _plain_text(value, MAX_VARIABLE_VALUE_CHARS)):
            return None
    if conversation_id is not None and not (type(conversation_id) is int and conversation_id >= 1):
        return None
    if type(stream) is not bool:
        return None
    validated = {"input": text, "variables": dict(variables), "stream": stream}
    if conversation_id is not None:
        validated["conversation_id"] = conversation_id
    return validated


def _plain_text(text: str, max_length: int) -> bool:
    """Within the length, no NUL and no lone surrogate (what DRF's CharField refuses)."""
    if len(text) > max_length or "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def invoke_output(result) -> dict:
    """`InvokeOutput(result).data` built directly (a test holds the two equal): it runs on every invoke."""
    data = {
        "output": result.output,
        "conversation_id": result.conversation.pk,
        "prompt_version": result.prompt_version,
        "usage": {
            "tokens_input": result.tokens_input,
            "tokens_output": result.tokens_output,
            "latency_ms": result.latency_ms,
        },
    }
    if result.is_demo:
        data["demo"] = True
    return data


class InvokeUsageOutput(serializers.Serializer):
    tokens_input = serializers.IntegerField()
    tokens_output = serializers.IntegerField()
    latency_ms = serializers.IntegerField()


class InvokeOutput(serializers.Serializer):
    output = serializers.CharField()
    conversation_id = serializers.IntegerField(source="conversation.pk")
    prompt_version = serializers.IntegerField()
    usage = InvokeUsageOutput(source="*")
    demo = serializers.BooleanField(source="is_demo", required=False, help_text="Present (true) for demo answers.")

    def to_representation(self, result):
        data = super().to_representation(result)
        if not data["demo"]:
            del data["demo"]
        return data


class AgentOutput(serializers.ModelSerializer):
    class Meta:
        model = Agent
        fields = ["id", "slug", "name", "description"]


class AgentBrief(serializers.ModelSerializer):
    class Meta:
        model = Agent
        fields = ["id", "slug", "name"]


class MessageOutput(serializers.ModelSerializer):
    class Meta:
        model = Message
        fields = ["id", "role", "content", "tokens_input", "tokens_output", "created_at"]


class ConversationOutput(serializers.ModelSerializer):
    agent = AgentBrief()
    last_message_at = serializers.DateTimeField(source="updated_at", help_text="When the latest exchange was saved.")

    class Meta:
        model = Conversation
        fields = ["id", "agent", "channel", "title", "created_at", "last_message_at"]


class ConversationDetailOutput(serializers.ModelSerializer):
    agent = AgentBrief()
    messages = serializers.SerializerMethodField()

    class Meta:
        model = Conversation
        fields = ["id", "agent", "channel", "title", "created_at", "messages"]

    @extend_schema_field(MessageOutput(many=True))
    def get_messages(self, conversation) -> list[dict]:
        return MessageOutput(self.context["messages"], many=True).data
