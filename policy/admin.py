from django.contrib import admin
from django.utils import timezone

from policy.models import PolicyRule, RuleKind
from policy.rules import delete_rule, save_rule

RULE_SHORT_NAMES = {
    RuleKind.RATE_LIMIT: "Rate limit",
    RuleKind.ALLOW_AGENT: "Allow agent",
    RuleKind.DENY_AGENT: "Deny agent",
    RuleKind.EXTRA_QUOTA: "Extra quota",
    RuleKind.FEATURE: "Feature",
}


def _short_time(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


@admin.register(PolicyRule)
class PolicyRuleAdmin(admin.ModelAdmin):
    """Operator overrides; authorize() reads them on the next call, no cache to flush.

    The list keeps to five short columns (rule, applies to, agent, window, active) so it fits a 1280 px
    screen beside the filters without clipping."""

    list_display = ["rule", "applies_to", "agent", "window", "is_active"]
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

    @admin.display(description="Rule", ordering="kind")
    def rule(self, obj: PolicyRule) -> str:
        name = RULE_SHORT_NAMES.get(obj.kind, obj.kind)
        if obj.kind == RuleKind.RATE_LIMIT:
            return f"{name}: {obj.requests_per_minute}/min" if obj.requests_per_minute else name
        if obj.kind == RuleKind.EXTRA_QUOTA:
            extras = [
                f"+{amount:,} {label}"
                for amount, label in (
                    (obj.extra_requests, "requests"),
                    (obj.extra_tokens_input, "input tokens"),
                    (obj.extra_tokens_output, "output tokens"),
                )
                if amount
            ]
            return f"{name}: {', '.join(extras)}" if extras else name
        if obj.kind == RuleKind.FEATURE and obj.feature:
            return f"{name}: {obj.feature}"
        return name

    @admin.display(description="Applies to")
    def applies_to(self, obj: PolicyRule) -> str:
        return str(obj.organization) if obj.organization_id else f"plan {obj.plan}"

    @admin.display(description="Window", ordering="starts_at")
    def window(self, obj: PolicyRule) -> str:
        if not obj.starts_at and not obj.ends_at:
            return "always"
        return f"{_short_time(obj.starts_at) or '…'} – {_short_time(obj.ends_at) or '…'}"

    def save_model(self, request, obj, form, change):
        save_rule(rule=obj, actor=request.user)

    def delete_model(self, request, obj):
        delete_rule(rule=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for rule in queryset:
            delete_rule(rule=rule, actor=request.user)
