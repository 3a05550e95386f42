import json
import re
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from billing import services
from billing.models import BillingAccount, Invoice, Payment, Plan, PlanAgent, PlanPrice, WebhookEvent
from billing.selectors import HISTORY_ACTIONS, revenue, revenue_totals
from billing.services import catalog
from billing.services.webhooks import process_webhook_event
from botgeneric.channels import CUSTOMER_CHANNELS
from botgeneric.errors import DomainError
from botgeneric.money_display import money
from tenants.admin import ReadOnlyAdmin
from tenants.selectors import audit_events_for

REVENUE_PERMISSION = "billing.view_revenue"

# --- Catalog: plans, their prices and agents ---------------------------------------------


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class PlanForm(forms.ModelForm):
    channels = forms.MultipleChoiceField(
        choices=CUSTOMER_CHANNELS,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Channels a subscriber of this plan may use; a call from any other channel is refused.",
    )
    features = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "cols": 60}),
        help_text="One feature per line, shown to customers on the plan list.",
    )
    features_ru = forms.CharField(
        label="Features (Russian)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "cols": 60}),
        help_text="The same features in Russian, one per line; empty = the Russian page shows the English ones.",
    )

    class Meta:
        model = Plan
        fields = [
            "code",
            "name",
            "name_ru",
            "description",
            "description_ru",
            "interval",
            "trial_days",
            "quota_requests",
            "quota_tokens_input",
            "quota_tokens_output",
            "max_members",
            "channels",
            "features",
            "features_ru",
            "is_active",
            "is_free",
            "display_order",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["features"] = "\n".join(self.instance.features)
            self.initial["features_ru"] = "\n".join(self.instance.features_ru)

    def clean_channels(self) -> list[str]:
        chosen = set(self.cleaned_data["channels"])
        return [value for value, _label in CUSTOMER_CHANNELS if value in chosen]

    def clean_features(self) -> list[str]:
        return _lines(self.cleaned_data["features"])

    def clean_features_ru(self) -> list[str]:
        return _lines(self.cleaned_data["features_ru"])


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
        "max_members",
        "channel_list",
        "agent_count",
        "trial_days",
        "is_active",
        "is_free",
        "display_order",
    ]
    list_editable = ["display_order", "is_active"]
    list_filter = ["is_active", "interval"]
    search_fields = ["code", "name", "name_ru"]
    ordering = ["display_order", "id"]
    inlines = [PlanPriceInline, PlanAgentInline]
    list_max_show_all = 1000
    fieldsets = [
        (None, {"fields": ["code", "name", "description", "is_active", "is_free", "display_order"]}),
        ("Period", {"fields": ["interval", "trial_days"]}),
        (
            "Quotas per period",
            {
                "fields": ["quota_requests", "quota_tokens_input", "quota_tokens_output"],
                "description": "Leave a quota empty for unlimited; 0 allows nothing.",
            },
        ),
        ("Access", {"fields": ["channels", "features", "max_members"]}),
        (
            "Russian texts",
            {
                "fields": ["name_ru", "description_ru", "features_ru"],
                "description": "Shown on the Russian dashboard; an empty field shows the English text.",
            },
        ),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(agent_total=Count("plan_agents", distinct=True))
            .prefetch_related("prices")
        )

    def save_model(self, request, obj, form, change):
        catalog.save_plan(plan=obj, actor=request.user)

    def delete_model(self, request, obj):
        catalog.delete_plan(plan=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for plan in queryset:
            catalog.delete_plan(plan=plan, actor=request.user)

    def save_formset(self, request, form, formset, change):
        """Prices and agents of the plan, row by row through the catalog services (each one audited)."""
        rows = formset.save(commit=False)
        actor = request.user
        for row in formset.deleted_objects:
            if isinstance(row, PlanPrice):
                catalog.delete_plan_price(price=row, actor=actor)
            else:
                catalog.delete_plan_agent(plan_agent=row, actor=actor)
        for row in rows:
            if isinstance(row, PlanPrice):
                catalog.save_plan_price(price=row, actor=actor)
            else:
                catalog.save_plan_agent(plan_agent=row, actor=actor)
        formset.save_m2m()

    @admin.display(description="Prices")
    def price_list(self, obj: Plan) -> str:
        return ", ".join(money(price.amount, price.currency) for price in obj.prices.all()) or "—"

    @admin.display(description="Channels")
    def channel_list(self, obj: Plan) -> str:
        return ", ".join(obj.channels) or "—"

    @admin.display(description="Agents", ordering="agent_total")
    def agent_count(self, obj: Plan) -> int:
        return obj.agent_total


# --- Accounts, payments, webhook events and revenue (operators act through billing.services) ---


class GrantPlanForm(forms.Form):
    plan = forms.ModelChoiceField(queryset=Plan.objects.filter(is_active=True))
    periods = forms.IntegerField(min_value=1, max_value=120, initial=1, help_text="Number of plan periods, free.")


class ExtendTrialForm(forms.Form):
    days = forms.IntegerField(min_value=1, max_value=365, initial=7)


class CancelNowForm(forms.Form):
    confirm = forms.BooleanField(
        required=True, label="Yes, end these subscriptions now (the provider stops charging too)"
    )


def _account_action(modeladmin, request, queryset, *, form_class, title: str, apply):
    """An admin action with an intermediate form page; `apply(account, cleaned_data)` calls a service."""
    form = form_class(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        done = 0
        for account in queryset.select_related("organization"):
            try:
                apply(account, form.cleaned_data)
                done += 1
            except DomainError as error:
                modeladmin.message_user(request, f"{account.organization}: {error.detail}", messages.ERROR)
        modeladmin.message_user(request, f"{title}: {done} account(s) changed.", messages.SUCCESS)
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "form": form,
        "accounts": queryset.select_related("organization", "plan"),
        "action": request.POST.get("action"),
        "opts": modeladmin.model._meta,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/billing/billingaccount/action_form.html", context)


@admin.register(BillingAccount)
class BillingAccountAdmin(admin.ModelAdmin):
    """Read-only state; every change goes through an action that calls billing.services."""

    list_display = [
        "organization",
        "plan",
        "status",
        "current_period_end",
        "cancel_at_period_end",
        "scheduled_plan",
        "provider",
        "updated_at",
    ]
    list_filter = ["status", "provider", "plan", "cancel_at_period_end"]
    search_fields = [
        "organization__name",
        "organization__slug",
        "provider_customer_id",
        "provider_subscription_id",
    ]
    list_select_related = ["organization", "plan", "scheduled_plan"]
    actions = ["grant_plan", "extend_trial", "cancel_now"]
    fields = [
        "organization",
        "plan",
        "status",
        "currency",
        "current_period_start",
        "current_period_end",
        "trial_end",
        "trial_used",
        "cancel_at_period_end",
        "scheduled_plan",
        "past_due_since",
        "provider",
        "provider_customer_id",
        "provider_subscription_id",
        "provider_payment_method_id",
        "balance",
        "updated_at",
        "audit_history",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Audit history")
    def audit_history(self, obj: BillingAccount) -> str:
        rows = audit_events_for(organization=obj.organization).filter(HISTORY_ACTIONS)[:50]
        if not rows:
            return "—"
        return format_html(
            "<table><thead><tr><th>When</th><th>Action</th><th>By</th><th>Before</th><th>After</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td><code>{}</code></td></tr>",
                (
                    (row.created_at, row.action, row.actor_label, json.dumps(row.before), json.dumps(row.after))
                    for row in rows
                ),
            ),
        )

    @admin.action(description="Grant a plan (free, for N periods)", permissions=["change"])
    def grant_plan(self, request, queryset):
        return _account_action(
            self,
            request,
            queryset,
            form_class=GrantPlanForm,
            title="Grant a plan",
            apply=lambda account, data: services.grant_plan(
                organization=account.organization, plan=data["plan"], periods=data["periods"], actor=request.user
            ),
        )

    @admin.action(description="Extend the trial", permissions=["change"])
    def extend_trial(self, request, queryset):
        return _account_action(
            self,
            request,
            queryset,
            form_class=ExtendTrialForm,
            title="Extend the trial",
            apply=lambda account, data: services.extend_trial(
                organization=account.organization, days=data["days"], actor=request.user
            ),
        )

    @admin.action(description="Cancel now", permissions=["change"])
    def cancel_now(self, request, queryset):
        return _account_action(
            self,
            request,
            queryset,
            form_class=CancelNowForm,
            title="Cancel now",
            apply=lambda account, data: services.cancel_by_operator(
                organization=account.organization, actor=request.user
            ),
        )


class RevenueForm(forms.Form):
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError("The start date must not be after the end date.")
        return data


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    change_list_template = "admin/billing/payment/change_list.html"
    list_display = ["created_at", "account", "provider", "external_id", "amount_with_currency", "status", "plan"]
    list_filter = ["status", "provider", "currency", "plan"]
    search_fields = ["external_id", "account__organization__name", "account__organization__slug"]
    list_select_related = ["account__organization", "account__plan", "plan"]
    date_hierarchy = "created_at"

    @admin.display(description="amount", ordering="amount")
    def amount_with_currency(self, obj: Payment) -> str:
        return money(obj.amount, obj.currency)

    def get_urls(self):
        return [
            path("revenue/", self.admin_site.admin_view(self.revenue_view), name="billing_payment_revenue"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_view_revenue": request.user.has_perm(REVENUE_PERMISSION)}
        return super().changelist_view(request, extra_context)

    def revenue_view(self, request):
        """Succeeded payments per day, plan and currency for the chosen dates (default: the last 30 days).

        Revenue is business data beyond seeing single payments: it needs its own permission."""
        if not request.user.has_perm(REVENUE_PERMISSION):
            raise PermissionDenied
        today = timezone.now().date()
        form = RevenueForm(request.GET or {"start": today - timedelta(days=29), "end": today})
        rows = revenue(**form.cleaned_data) if form.is_valid() else []
        totals = revenue_totals(rows)
        context = {
            **self.admin_site.each_context(request),
            "title": "Revenue",
            "opts": self.model._meta,
            "form": form,
            "rows": [{**row, "amount": money(row["total"], row["currency"])} for row in rows],
            "totals": totals,
            "total_amounts": [money(total, currency) for currency, total in totals.items()],
        }
        return TemplateResponse(request, "admin/billing/payment/revenue.html", context)


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "provider", "event_type", "event_id", "outcome", "attempts", "processed_at"]
    list_filter = ["provider", "outcome", "event_type"]
    search_fields = ["event_id", "event_type"]
    date_hierarchy = "received_at"
    exclude = ["payload"]
    readonly_fields = ["payload_view"]
    actions = ["retry"]

    @admin.display(description="Payload")
    def payload_view(self, obj: WebhookEvent) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2, ensure_ascii=False, sort_keys=True))

    def has_retry_permission(self, request) -> bool:
        """Events are read-only, but retrying processes them (changes accounts): it needs *change*."""
        return request.user.has_perm("billing.change_webhookevent")

    @admin.action(description="Retry processing (failed or unfinished events only)", permissions=["retry"])
    def retry(self, request, queryset):
        events = [process_webhook_event(event_pk=pk) for pk in queryset.values_list("pk", flat=True)]
        outcomes = ", ".join(f"{event.event_id}: {event.outcome}" for event in events)
        self.message_user(request, f"Retried: {outcomes}", messages.INFO)


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    """Numbered invoices, one per succeeded paid payment (issued by billing; read-only)."""

    list_display = ["number", "issued_at", "customer_name", "amount", "currency", "plan_name"]
    search_fields = ["number", "customer_name"]
    date_hierarchy = "issued_at"
    raw_id_fields = ["account", "payment"]
