"""Shapes of the webhook endpoints API. Validation only; webhooks.services does the work. The signing
secret appears in the answers of create and rotate-secret only."""

from rest_framework import serializers

from webhooks.models import DeliveryStatus, EventType, WebhookAttempt, WebhookDelivery, WebhookEndpoint


class EndpointInput(serializers.Serializer):
    url = serializers.CharField(max_length=2000, help_text="https:// address that receives the events (POST).")
    events = serializers.ListField(child=serializers.ChoiceField(choices=EventType.choices), min_length=1)
    description = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    is_active = serializers.BooleanField(required=False, default=True)


class EndpointChange(serializers.Serializer):
    url = serializers.CharField(max_length=2000, required=False)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices), min_length=1, required=False
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


class EndpointOutput(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=EventType.choices))

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "description", "events", "is_active", "created_at", "updated_at"]


class EndpointWithSecret(EndpointOutput):
    secret = serializers.CharField(
        help_text="The signing secret (whsec_…): shown in this answer only, keep it now.", read_only=True
    )

    class Meta(EndpointOutput.Meta):
        fields = [*EndpointOutput.Meta.fields, "secret"]


class AttemptOutput(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["attempted_at", "succeeded", "status_code", "error", "response_excerpt", "duration_ms"]


class DeliveryOutput(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=DeliveryStatus.choices)
    event_type = serializers.ChoiceField(choices=EventType.choices)
    attempt_log = AttemptOutput(
        many=True, read_only=True, source="recent_attempts", help_text="The latest attempts, newest first."
    )

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "event_type",
            "status",
            "attempts",
            "last_status_code",
            "next_attempt_at",
            "created_at",
            "completed_at",
            "body",
            "attempt_log",
        ]
