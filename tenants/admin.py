from django.contrib import admin
from django.contrib.auth import get_user_model

from tenants.models import ApiKey, AuditEvent, Organization


class MemberInline(admin.TabularInline):
    model = get_user_model()
    fields = ["email", "name", "role", "is_active", "date_joined"]
    readonly_fields = ["email", "name", "role", "is_active", "date_joined"]
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at", "deletion_due_at", "erased_at"]
    search_fields = ["name", "slug", "members__email"]
    list_filter = ["created_at"]
    # Deletion is the owner's (privacy.deletion): the console shows it, never sets it.
    readonly_fields = ["created_at", "deletion_due_at", "erased_at"]
    inlines = [MemberInline]

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
