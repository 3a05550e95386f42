"""Operator console for the catalog: agents (with their prompt versions), LLM providers, model prices."""

from django import forms
from django.contrib import admin, messages
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters

from agents.models import Agent, LLMProvider, ModelPrice
from agents.provider_keys import has_api_key
from agents.providers import delete_provider, save_provider
from prompts import services as prompt_services
from prompts.admin import PromptVersionInline, save_inline_versions
from prompts.models import PromptVersion, Status


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "is_active", "active_version", "plan_list", "created_at"]
    list_filter = ["is_active", "plans"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at"]
    inlines = [PromptVersionInline]
    actions = ["activate_newest_draft", "duplicate_active_version"]
    list_max_show_all = 1000

    def get_queryset(self, request):
        active = PromptVersion.objects.filter(agent=OuterRef("pk"), status=Status.ACTIVE).values("version")[:1]
        return super().get_queryset(request).annotate(active_version_number=Subquery(active)).prefetch_related("plans")

    @admin.display(description="Active version", ordering="active_version_number")
    def active_version(self, obj: Agent) -> str:
        number = getattr(obj, "active_version_number", None)
        return f"v{number}" if number else "— none —"

    @admin.display(description="Plans")
    def plan_list(self, obj: Agent) -> str:
        return ", ".join(plan.code for plan in obj.plans.all()) or "—"

    def save_formset(self, request, form, formset, change):
        if formset.model is PromptVersion:
            save_inline_versions(request=request, agent=form.instance, formset=formset)
        else:
            super().save_formset(request, form, formset, change)

    def has_change_prompts_permission(self, request) -> bool:
        """The agent actions change prompt versions, so they need that permission, not the agent's."""
        return request.user.has_perm("prompts.change_promptversion")

    @admin.action(description="Activate the newest draft", permissions=["change_prompts"])
    def activate_newest_draft(self, request, queryset: QuerySet[Agent]):
        for agent in queryset:
            draft = agent.prompt_versions.filter(status=Status.DRAFT).order_by("-version").first()
            if draft is None:
                self.message_user(request, f"{agent}: there is no draft to activate.", messages.ERROR)
                continue
            prompt_services.activate_version(version=draft, actor=request.user)
            self.message_user(request, f"{agent}: version {draft.version} is now active.", messages.SUCCESS)

    @admin.action(description="Duplicate the active version as a draft", permissions=["change_prompts"])
    def duplicate_active_version(self, request, queryset: QuerySet[Agent]):
        for agent in queryset:
            active = agent.prompt_versions.filter(status=Status.ACTIVE).first()
            if active is None:
                self.message_user(request, f"{agent}: there is no active version to duplicate.", messages.ERROR)
                continue
            copy = prompt_services.duplicate_version(version=active, actor=request.user)
            self.message_user(
                request, f"{agent}: draft version {copy.version} created from v{active.version}.", messages.SUCCESS
            )


class LLMProviderForm(forms.ModelForm):
    """The key is write-only: typed in once, stored encrypted, never rendered back."""

    base_url = forms.URLField(required=False, assume_scheme="https", help_text="Empty = the official OpenAI endpoint.")
    api_key = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only: leave empty to keep the current key. Stored encrypted; never shown again.",
    )
    clear_api_key = forms.BooleanField(required=False, label="Remove the stored key")

    class Meta:
        model = LLMProvider
        fields = ["name", "kind", "base_url", "api_key", "clear_api_key", "api_key_env", "timeout", "max_retries"]
        fields += ["first_token_timeout", "total_timeout", "is_default"]
        help_texts = {
            "api_key_env": "Name of an environment variable holding the key, e.g. OPENROUTER_API_KEY "
            "(allowed: LLM_KEY_ENV_ALLOWED, or any *_API_KEY that is not one of the app's own secrets)."
        }

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("is_default"):
            other = LLMProvider.objects.filter(is_default=True).exclude(pk=self.instance.pk).first()
            if other is not None:
                self.add_error("is_default", f"{other} is the default provider; untick it there first.")
        for name in ("timeout", "first_token_timeout"):
            if cleaned.get(name) is not None and cleaned[name] <= 0:
                self.add_error(name, "Must be more than 0 seconds.")
        first_token, total = cleaned.get("first_token_timeout"), cleaned.get("total_timeout")
        if first_token is not None and total is not None and total < first_token:
            self.add_error("total_timeout", "Must be at least the first-token timeout.")
        return cleaned


@admin.register(LLMProvider)
class LLMProviderAdmin(admin.ModelAdmin):
    form = LLMProviderForm
    list_display = ["name", "kind", "base_url", "key_set", "api_key_env", "first_token_timeout", "total_timeout"]
    list_display += ["is_default"]
    list_filter = ["kind", "is_default"]
    search_fields = ["name", "base_url"]
    readonly_fields = ["key_set"]

    @admin.display(description="Key set", boolean=True)
    def key_set(self, obj: LLMProvider) -> bool:
        return has_api_key(obj)

    @method_decorator(sensitive_post_parameters("api_key"))
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        new_key = form.cleaned_data.get("api_key") or ("" if form.cleaned_data.get("clear_api_key") else None)
        save_provider(provider=obj, actor=request.user, new_key=new_key)

    def delete_model(self, request, obj):
        delete_provider(provider=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for provider in queryset:
            delete_provider(provider=provider, actor=request.user)


@admin.register(ModelPrice)
class ModelPriceAdmin(admin.ModelAdmin):
    list_display = ["model", "input_per_1m", "output_per_1m"]
    list_editable = ["input_per_1m", "output_per_1m"]
    search_fields = ["model"]
