import re

from django import forms
from django.contrib import admin
from django.db.models import Count

from agents.models import Channel
from billing.models import Plan, PlanAgent, PlanPrice

# --- Catalog: plans, their prices and agents ---------------------------------------------


class PlanForm(forms.ModelForm):
    channels = forms.MultipleChoiceField(
        choices=Channel.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Channels a subscriber of this plan may use; a call from any other channel is refused.",
    )
    features = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "cols": 60}),
        help_text="One feature per line, shown to customers on the plan list.",
    )

    class Meta:
        model = Plan
        fields = [
            "code",
            "name",
            "name_ru",
            "description",
            "interval",
            "trial_days",
            "quota_requests",
            "quota_tokens_input",
            "quota_tokens_output",
            "channels",
            "features",
            "is_active",
            "display_order",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["features"] = "\n".join(self.instance.features)

    def clean_channels(self) -> list[str]:
        chosen = set(self.cleaned_data["channels"])
        return [value for value in Channel.values if value in chosen]

    def clean_features(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["features"].splitlines() if line.strip()]


class PlanPriceForm(forms.ModelForm):
    class Meta:
        model = PlanPrice
        fields = ["currency", "amount", "provider_ref"]

    def clean_currency(self) -> str:
        currency = self.cleaned_data["currency"].strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise forms.ValidationError("Use a three-letter ISO 4217 code such as USD or RUB.")
        return currency


class PlanPriceInline(admin.TabularInline):
    model = PlanPrice
    form = PlanPriceForm
    extra = 0


class PlanAgentInline(admin.TabularInline):
    model = PlanAgent
    extra = 0
    autocomplete_fields = ["agent"]
    verbose_name = "agent in this plan"
    verbose_name_plural = "agents in this plan"


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    form = PlanForm
    list_display = [
        "name",
        "code",
        "interval",
        "price_list",
        "quota_requests",
        "channel_list",
        "agent_count",
        "trial_days",
        "is_active",
        "display_order",
    ]
    list_editable = ["display_order", "is_active"]
    list_filter = ["is_active", "interval"]
    search_fields = ["code", "name", "name_ru"]
    ordering = ["display_order", "id"]
    inlines = [PlanPriceInline, PlanAgentInline]
    list_max_show_all = 1000
    fieldsets = [
        (None, {"fields": ["code", "name", "name_ru", "description", "is_active", "display_order"]}),
        ("Period", {"fields": ["interval", "trial_days"]}),
        (
            "Quotas per period",
            {
                "fields": ["quota_requests", "quota_tokens_input", "quota_tokens_output"],
                "description": "Leave a quota empty for unlimited; 0 allows nothing.",
            },
        ),
        ("Access", {"fields": ["channels", "features"]}),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(agent_total=Count("plan_agents", distinct=True))
            .prefetch_related("prices")
        )

    @admin.display(description="Prices")
    def price_list(self, obj: Plan) -> str:
        return ", ".join(f"{price.amount} {price.currency}" for price in obj.prices.all()) or "—"

    @admin.display(description="Channels")
    def channel_list(self, obj: Plan) -> str:
        return ", ".join(obj.channels) or "—"

    @admin.display(description="Agents", ordering="agent_total")
    def agent_count(self, obj: Plan) -> int:
        return obj.agent_total
