"""Outgoing webhooks in the console: operators see endpoints (never their secrets) and every delivery with
its attempts; disabling, enabling, deleting and resending go through the services the customers use."""

from django.contrib import admin, messages

from botgeneric.errors import DomainError
from webhooks import services
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "organization", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "description", "organization__name"]
    list_select_related = ["organization"]
    readonly_fields = ["organization", "url", "description", "events", "is_active", "created_by", "created_at"]
    fields = readonly_fields
    actions = ["disable", "enable"]

    def has_add_permission(self, request):
        return False

    def _set_active(self, request, queryset, is_active: bool):
        for endpoint in queryset.select_related("organization"):
            services.update_endpoint(endpoint=endpoint, actor=request.user, is_active=is_active)

    @admin.action(description="Disable the selected endpoints", permissions=["change"])
    def disable(self, request, queryset):
        self._set_active(request, queryset, False)

    @admin.action(description="Enable the selected endpoints", permissions=["change"])
    def enable(self, request, queryset):
        self._set_active(request, queryset, True)

    def delete_model(self, request, obj):
        services.delete_endpoint(endpoint=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for endpoint in queryset.select_related("organization"):
            services.delete_endpoint(endpoint=endpoint, actor=request.user)


class AttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ["attempted_at", "succeeded", "status_code", "error", "response_excerpt", "duration_ms"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["event_id", "event_type", "endpoint", "status", "attempts", "last_status_code", "created_at"]
    list_filter = ["status", "event_type"]
    search_fields = ["event_id", "event_type", "endpoint__url", "endpoint__organization__name"]
    list_select_related = ["endpoint"]
    readonly_fields = [
        "endpoint",
        "event_id",
        "event_type",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "created_at",
        "completed_at",
        "body",
    ]
    fields = readonly_fields
    inlines = [AttemptInline]
    actions = ["resend"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Send the selected deliveries again", permissions=["change"])
    def resend(self, request, queryset):
        for delivery in queryset.select_related("endpoint__organization"):
            try:
                services.resend(delivery=delivery, actor=request.user)
            except DomainError as error:
                self.message_user(request, f"{delivery}: {error.detail}", messages.ERROR)
