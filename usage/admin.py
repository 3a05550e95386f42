from django.contrib import admin

from botgeneric.money_display import llm_cost_usd
from tenants.admin import ReadOnlyAdmin
from usage.models import UsageEvent


@admin.register(UsageEvent)
class UsageEventAdmin(ReadOnlyAdmin):
    """The metering record: read-only, written only by the invoke path."""

    list_display = [
        "created_at",
        "organization",
        "user",
        "agent",
        "channel",
        "outcome",
        "error_code",
        "model",
        "tokens_input",
        "tokens_output",
        "latency_ms",
        "audio_seconds",
        "cost",
    ]
    list_filter = ["outcome", "channel", "agent", "error_code"]
    search_fields = ["organization__name", "user__email", "agent__slug", "model", "error_code"]
    list_select_related = ["organization", "user", "agent"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description="cost (USD)", ordering="cost_usd")
    def cost(self, obj: UsageEvent) -> str:
        return llm_cost_usd(obj.cost_usd)
