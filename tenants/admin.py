from django.contrib import admin
from django.contrib.auth import get_user_model
from django.utils import timezone

from tenants.models import ApiKey, AuditEvent, Invitation, Organization


class MemberInline(admin.TabularInline):
    model = get_user_model()
    fields = ["email", "name", "role", "is_active", "date_joined"]
    readonly_fields = ["email", "name", "role", "is_active", "date_joined"]
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


class InvitationInline(admin.TabularInline):
    """Open invitations: who is expected to join (changed by the organization's people, not here)."""

    model = Invitation
    fields = ["email", "role", "invited_by", "created_at", "expires_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "open invitations"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(accepted_at__isnull=True, revoked_at__isnull=True)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at", "deletion_due_at", "erased_at"]
    search_fields = ["name", "slug", "members__email"]
    list_filter = ["created_at"]
    # Deletion is the owner's (privacy.deletion): the console shows it, never sets it.
    readonly_fields = ["created_at", "deletion_due_at", "erased_at"]
    inlines = [MemberInline, InvitationInline]

    def get_search_results(self, request, queryset, search_term):
        queryset, _ = super().get_search_results(request, queryset, search_term)
        return queryset.distinct(), False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "action", "organization", "actor_label", "target_type", "target_id"]
    list_filter = ["action", "target_type"]
    search_fields = ["action", "actor_label", "target_id", "organization__name"]
    list_select_related = ["organization", "actor"]
    date_hierarchy = "created_at"


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    list_display = [
        "name",
        "prefix",
        "organization",
        "scopes",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "organization__name"]
    list_select_related = ["organization", "created_by"]
    exclude = ["key_hash"]


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    """Every invitation with its fate; the link's token is never stored, only its hash (not shown)."""

    list_display = ["email", "organization", "role", "status", "invited_by", "created_at", "expires_at"]
    list_filter = ["role", "created_at"]
    search_fields = ["email", "organization__name", "organization__slug", "invited_by__email"]
    list_select_related = ["organization", "invited_by"]
    exclude = ["token_hash"]
    date_hierarchy = "created_at"

    @admin.display(description="status")
    def status(self, invitation):
        return invitation.status_at(timezone.now())
