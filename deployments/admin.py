"""Deployments and contacts in the console: operators see them and pause, resume or delete a deployment
through the same services the customers use; bot tokens are never shown."""

from django.contrib import admin, messages

from botgeneric.errors import DomainError
from deployments import services
from deployments.models import Contact, Deployment, DeploymentStatus


@admin.register(Deployment)
class DeploymentAdmin(admin.ModelAdmin):
    list_display = ["__str__", "organization", "channel", "status", "bot_username", "created_at"]
    list_filter = ["channel", "status"]
    search_fields = ["organization__name", "agent__name", "bot_username", "public_key"]
    list_select_related = ["organization", "agent"]
    readonly_fields = [
        "organization",
        "agent",
        "channel",
        "status",
        "name",
        "public_key",
        "bot_username",
        "bot_id",
        "token_set",
        "allowed_origins",
        "created_by",
        "created_at",
        "updated_at",
    ]
    fields = readonly_fields
    actions = ["pause", "resume"]

    def has_add_permission(self, request):
        return False

    @admin.display(boolean=True, description="bot token set")
    def token_set(self, obj):
        return bool(obj.bot_token_encrypted)

    def _set_status(self, request, queryset, status):
        for deployment in queryset.select_related("agent", "created_by", "organization"):
            try:
                services.update_deployment(deployment=deployment, actor=request.user, status=status)
            except DomainError as error:
                self.message_user(request, f"{deployment}: {error.detail}", messages.ERROR)

    @admin.action(description="Pause the selected deployments", permissions=["change"])
    def pause(self, request, queryset):
        self._set_status(request, queryset, DeploymentStatus.PAUSED)

    @admin.action(description="Resume the selected deployments", permissions=["change"])
    def resume(self, request, queryset):
        self._set_status(request, queryset, DeploymentStatus.ACTIVE)

    def delete_model(self, request, obj):
        services.delete_deployment(deployment=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for deployment in queryset:
            services.delete_deployment(deployment=deployment, actor=request.user)


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["__str__", "organization", "channel", "external_id", "last_seen_at"]
    list_filter = ["channel"]
    search_fields = ["name", "external_id", "organization__name"]
    list_select_related = ["organization"]
    readonly_fields = [
        "organization",
        "channel",
        "external_id",
        "deployment",
        "name",
        "handles",
        "locale",
        "created_at",
        "last_seen_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
