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
