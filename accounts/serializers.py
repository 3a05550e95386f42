from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Locale, User
from notifications.models import NotificationPreferences
from notifications.serializers import NotificationPreferencesSerializer
from tenants.models import INVITABLE_ROLE_CHOICES, Invitation, InvitationStatus, Role


class RegisterInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)
    locale = serializers.ChoiceField(choices=Locale.choices, required=False, default="en")
    name = serializers.CharField(max_length=150, required=False, default="", allow_blank=True)
    invitation = serializers.CharField(
        max_length=200,
        required=False,
        help_text="The token of an invitation link: the account joins that organization (with the invited "
        "address only) instead of getting one of its own.",
    )


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
    notifications = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "name",
            "locale",
            "role",
            "auth_provider",
            "email_verified",
            "organization",
            "plan",
            "notifications",
        ]

    def get_plan(self, user) -> dict | None:
        account = getattr(user.organization, "billing_account", None) if user.organization_id else None
        if account is None or account.plan is None:
            return None
        return {"code": account.plan.code, "name": account.plan.name, "status": account.status}

    @extend_schema_field(NotificationPreferencesSerializer)
    def get_notifications(self, user) -> dict:
        """Which notices the user gets (the defaults until they change one)."""
        preferences = getattr(user, "notification_preferences", None) or NotificationPreferences(user_id=user.pk)
        return NotificationPreferencesSerializer(preferences).data


class ProfileInput(serializers.Serializer):
    name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    locale = serializers.ChoiceField(choices=Locale.choices, required=False)
    notifications = NotificationPreferencesSerializer(required=False)


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


# --- The organization, its members and invitations (accounts.organization_api). ---


class SeatsOutput(serializers.Serializer):
    limit = serializers.IntegerField(allow_null=True, help_text="Seats of the plan; null = unlimited.")
    members = serializers.IntegerField(help_text="Active members.")
    pending_invitations = serializers.IntegerField(help_text="Open invitations not yet expired (they hold seats).")
    used = serializers.IntegerField()


class OrganizationDetail(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    created_at = serializers.DateTimeField()
    role = serializers.ChoiceField(choices=Role.choices, help_text="Your role in it.")
    seats = SeatsOutput()


class OrganizationRename(serializers.Serializer):
    name = serializers.CharField(max_length=200)


class MemberOutput(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "name", "role", "is_active", "date_joined"]
        read_only_fields = fields


class MemberChange(serializers.Serializer):
    role = serializers.ChoiceField(
        choices=INVITABLE_ROLE_CHOICES, help_text="Ownership is not a role to give: see transfer-ownership."
    )


class InvitationInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=INVITABLE_ROLE_CHOICES, required=False, default=Role.MEMBER)


class InvitationOutput(serializers.ModelSerializer):
    role = serializers.ChoiceField(choices=INVITABLE_ROLE_CHOICES, read_only=True)
    status = serializers.SerializerMethodField()
    invited_by = serializers.EmailField(source="invited_by.email", allow_null=True, default=None, read_only=True)

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "status", "invited_by", "created_at", "expires_at"]
        read_only_fields = fields

    def get_status(self, invitation) -> InvitationStatus:
        return invitation.status_at(timezone.now())


class AcceptInvitationInput(serializers.Serializer):
    token = serializers.CharField(max_length=200, help_text="The token of the invitation link (its last part).")


class TransferOwnershipInput(serializers.Serializer):
    user = serializers.IntegerField(min_value=1, help_text="The id of the member who becomes the owner.")
