from django.contrib import admin

from policy.models import PolicyRule


@admin.register(PolicyRule)
class PolicyRuleAdmin(admin.ModelAdmin):
    """Operator overrides; authorize() reads them on the next call, no cache to flush."""

    list_display = ["kind", "organization", "plan", "agent", "requests_per_minute", "starts_at", "ends_at", "is_active"]
    list_filter = ["kind", "is_active", "plan"]
    search_fields = ["organization__name", "organization__slug", "agent__slug", "agent__name", "feature", "note"]
    list_select_related = ["organization", "plan", "agent"]
    autocomplete_fields = ["organization", "agent"]
    date_hierarchy = "created_at"
    fieldsets = [
        (None, {"fields": ["kind", "organization", "plan", "agent", "is_active", "note"]}),
        ("Rate limit", {"fields": ["requests_per_minute"]}),
        ("Extra quota", {"fields": ["extra_requests", "extra_tokens_input", "extra_tokens_output"]}),
        ("Feature flag", {"fields": ["feature"]}),
        ("Window", {"fields": ["starts_at", "ends_at"]}),
    ]
