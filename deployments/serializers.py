"""Shapes of the deployments and contacts API. Validation only; deployments.services does the work."""

from rest_framework import serializers

from agents.models import Conversation, Message
from deployments.models import Contact, Deployment, DeploymentChannel, DeploymentStatus


class DeploymentInput(serializers.Serializer):
    agent = serializers.IntegerField(min_value=1)
    channel = serializers.ChoiceField(choices=DeploymentChannel.choices)
    name = serializers.CharField(max_length=120, required=False, default="", allow_blank=True)
    telegram_bot_token = serializers.CharField(
        max_length=200, required=False, default="", write_only=True, help_text="channel telegram: from @BotFather"
    )
    allowed_origins = serializers.ListField(
        child=serializers.CharField(max_length=300),
        required=False,
        default=list,
        max_length=20,
        help_text="channel widget: the website origins that may embed it, e.g. https://shop.example.com",
    )


class DeploymentChange(serializers.Serializer):
    status = serializers.ChoiceField(choices=DeploymentStatus.choices, required=False)
    name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    allowed_origins = serializers.ListField(child=serializers.CharField(max_length=300), required=False, max_length=20)


class DeploymentOutput(serializers.ModelSerializer):
    agent_name = serializers.CharField(source="agent.name", read_only=True)
    bot_token_set = serializers.SerializerMethodField()

    class Meta:
        model = Deployment
        fields = [
            "id",
            "agent",
            "agent_name",
            "channel",
            "status",
            "name",
            "public_key",
            "bot_username",
            "bot_token_set",
            "allowed_origins",
            "created_at",
        ]

    def get_bot_token_set(self, deployment) -> bool:
        return bool(deployment.bot_token_encrypted)


class ContactFilter(serializers.Serializer):
    channel = serializers.ChoiceField(choices=DeploymentChannel.choices, required=False)
    deployment = serializers.IntegerField(min_value=1, required=False)


class ContactOutput(serializers.ModelSerializer):
    conversation_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Contact
        fields = [
            "id",
            "channel",
            "external_id",
            "name",
            "handles",
            "locale",
            "deployment",
            "conversation_count",
            "created_at",
            "last_seen_at",
        ]


class ClientMessageOutput(serializers.ModelSerializer):
    class Meta:
        model = Message
        fields = ["id", "role", "content", "interrupted", "created_at"]


class ClientConversationOutput(serializers.ModelSerializer):
    last_message_at = serializers.DateTimeField(read_only=True, allow_null=True)
    message_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Conversation
        fields = ["id", "agent", "channel", "deployment", "contact", "title", "last_message_at", "message_count"]


class ClientConversationDetail(ClientConversationOutput):
    messages = ClientMessageOutput(many=True, read_only=True)

    class Meta(ClientConversationOutput.Meta):
        fields = [*ClientConversationOutput.Meta.fields, "messages"]


class ContactDetailOutput(ContactOutput):
    conversations = serializers.SerializerMethodField()

    class Meta(ContactOutput.Meta):
        fields = [*ContactOutput.Meta.fields, "conversations"]

    def get_conversations(self, contact) -> list[dict]:
        return ClientConversationOutput(self.context["conversations"], many=True).data
