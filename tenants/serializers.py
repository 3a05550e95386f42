"""Shapes of the API-key endpoints. The secret appears in exactly one of them: the create answer."""

from rest_framework import serializers

from tenants.models import ApiKey, ApiKeyScope


class ApiKeyInput(serializers.Serializer):
    name = serializers.CharField(max_length=100, help_text="What the key is for, e.g. `production backend`.")
    scopes = serializers.MultipleChoiceField(
        choices=ApiKeyScope.choices,
        required=False,
        help_text="What the key may do; default `invoke` and `read`. `billing` (subscribe, cancel, pay) "
        "only for keys an owner creates.",
    )


class ApiKeyOutput(serializers.ModelSerializer):
    prefix = serializers.CharField(help_text="Shown to tell keys apart; the secret itself is never shown again.")
    created_by = serializers.EmailField(source="created_by.email", allow_null=True, default=None, read_only=True)
    is_active = serializers.BooleanField(read_only=True)
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=ApiKeyScope.choices), read_only=True)

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "name",
            "prefix",
            "scopes",
            "is_active",
            "created_by",
            "created_at",
            "last_used_at",
            "revoked_at",
        ]
        read_only_fields = fields


class ApiKeyCreated(ApiKeyOutput):
    key = serializers.CharField(help_text="The secret: store it now, it cannot be shown again.")

    class Meta(ApiKeyOutput.Meta):
        fields = [*ApiKeyOutput.Meta.fields, "key"]
        read_only_fields = fields
