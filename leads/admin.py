"""Leads in the console: operators see them; a status change goes through the service (audited)."""

from django.contrib import admin

from leads import services
from leads.models import Lead, LeadStatus


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ["__str__", "organization", "status", "phone", "email", "telegram", "created_at"]
    list_filter = ["status"]
    search_fields = ["name", "phone", "email", "telegram", "need", "organization__name"]
    list_select_related = ["organization", "contact"]
    readonly_fields = [
        "organization",
        "contact",
        "conversation",
        "deployment",
        "status",
        "name",
        "phone",
        "email",
        "telegram",
        "need",
        "budget",
        "notes",
        "created_at",
        "updated_at",
    ]
    actions = ["mark_contacted", "mark_won", "mark_lost"]

    def has_add_permission(self, request):
        return False

    def _mark(self, request, queryset, status):
        for lead in queryset.select_related("organization"):
            services.change_status(lead=lead, actor=request.user, status=status)

    @admin.action(description="Mark contacted", permissions=["change"])
    def mark_contacted(self, request, queryset):
        self._mark(request, queryset, LeadStatus.CONTACTED)

    @admin.action(description="Mark won", permissions=["change"])
    def mark_won(self, request, queryset):
        self._mark(request, queryset, LeadStatus.WON)

    @admin.action(description="Mark lost", permissions=["change"])
    def mark_lost(self, request, queryset):
        self._mark(request, queryset, LeadStatus.LOST)
