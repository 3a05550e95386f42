from rest_framework import serializers

from accounts.models import Locale, User


class RegisterInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)
    locale = serializers.ChoiceField(choices=Locale.choices, required=False, default="en")
    name = serializers.CharField(max_length=150, required=False, default="", allow_blank=True)


class LoginInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class TokenPair(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class RefreshInput(serializers.Serializer):
    refresh = serializers.CharField()


class LocaleInput(serializers.Serializer):
    locale = serializers.ChoiceField(choices=Locale.choices)


class OrganizationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()


class ProfileOutput(serializers.ModelSerializer):
    organization = OrganizationOutput(allow_null=True)
    plan = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "email", "name", "locale", "role", "auth_provider", "email_verified", "organization", "plan"]

    def get_plan(self, user) -> dict | None:
        account = getattr(user.organization, "billing_account", None) if user.organization_id else None
        if account is None or account.plan is None:
            return None
        return {"code": account.plan.code, "name": account.plan.name, "status": account.status}


class ProfileInput(serializers.Serializer):
    name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    locale = serializers.ChoiceField(choices=Locale.choices, required=False)


class DeleteAccountInput(serializers.Serializer):
    password = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, help_text="The current password, re-entered."
    )
    confirm = serializers.CharField(
        required=False, allow_blank=True, help_text="`DELETE`, for an account without a password (Telegram, Google)."
    )


class TrialNotice(serializers.Serializer):
    granted = serializers.BooleanField()
    ends_at = serializers.DateTimeField(allow_null=True)
    detail = serializers.CharField()


class RegisterOutput(serializers.Serializer):
    user = ProfileOutput()
    organization = OrganizationOutput()
    trial = TrialNotice()
