"""Operator console for prompt versions. Every write goes through prompts.services.

Published (active or archived) versions open as read-only pages with a diff against
the previous version; a change to them is a new draft ("Duplicate as draft").
"""

import difflib

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from agents.playground import try_version
from agents.tools import tool_names
from botgeneric.errors import DomainError
from botgeneric.money_display import llm_cost_usd
from prompts import services
from prompts.errors import PromptError
from prompts.models import CONTENT_FIELDS, LockableParameter, PromptVersion, Status

_WIDGETS = {
    "system_prompt": forms.Textarea(attrs={"rows": 8, "cols": 80}),
    "template": forms.Textarea(attrs={"rows": 3, "cols": 80}),
}


class PromptContentForm(forms.ModelForm):
    """Applies the services' content rules so a bad template is a form error, not a 500."""

    locked_parameters = forms.MultipleChoiceField(
        choices=LockableParameter.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=PromptVersion._meta.get_field("locked_parameters").help_text,
    )

    tools = forms.MultipleChoiceField(
        choices=lambda: [(name, name) for name in tool_names()],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=PromptVersion._meta.get_field("tools").help_text,
    )

    def clean(self):
        cleaned = super().clean()
        content = {name: cleaned[name] for name in CONTENT_FIELDS if name in cleaned and name in self.changed_data}
        try:
            services.clean_content(content)
        except PromptError as exc:
            for field, reasons in exc.extra.get("fields", {"__all__": [exc.detail]}).items():
                self.add_error(field if field in self.fields else None, reasons)
        return cleaned


class PromptVersionInlineForm(PromptContentForm):
    class Meta:
        model = PromptVersion
        fields = list(CONTENT_FIELDS)
        widgets = {
            # Widths come from static/css/console.css, so the row fits the agent page at 1280 px.
            "system_prompt": forms.Textarea(attrs={"rows": 4}),
            "template": forms.Textarea(attrs={"rows": 2}),
            "temperature": forms.NumberInput(attrs={"step": "0.01"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.status != Status.DRAFT:
            # Disabled fields ignore whatever is posted, so a published row cannot change here.
            for field in self.fields.values():
                field.disabled = True
                field.widget.attrs["title"] = "Published versions are read-only; duplicate one as a draft to change it."
                field.widget.attrs["style"] = "background: #eee"


class PromptVersionInline(admin.TabularInline):
    """Versions on the agent page; the agent admin saves new and changed drafts through the services."""

    model = PromptVersion
    form = PromptVersionInlineForm
    fields = ["version", "status", *CONTENT_FIELDS]
    readonly_fields = ["version", "status"]
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ["-version"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("provider")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "provider":
            # A bare select: the add/change-provider links crowd a table row and are on the provider page.
            formfield.widget = formfield.widget.widget
        return formfield


def save_inline_versions(*, request, agent, formset) -> None:
    """Create drafts for new inline rows and update changed drafts, through the services."""
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
    for form in formset.forms:
        if not form.has_changed() or not form.is_valid():
            continue
        content = {name: form.cleaned_data[name] for name in CONTENT_FIELDS if name in form.cleaned_data}
        if form.instance.pk is None:
            formset.new_objects.append(services.create_draft(agent=agent, actor=request.user, **content))
        else:
            version = services.update_draft(version=form.instance, actor=request.user, **content)
            formset.changed_objects.append((version, form.changed_data))


class PromptVersionForm(PromptContentForm):
    class Meta:
        model = PromptVersion
        fields = ["agent", *CONTENT_FIELDS]
        widgets = _WIDGETS


def _content_text(version: PromptVersion) -> list[str]:
    lines = [f"model: {version.model}", f"provider: {version.provider or '(default)'}"]
    lines += [f"temperature: {version.temperature}", f"max_tokens: {version.max_tokens}"]
    lines += [f"context_tokens: {version.context_tokens}", f"locked: {', '.join(version.locked_parameters) or '-'}"]
    lines += [f"tools: {', '.join(version.tools) or '-'}"]
    lines += ["", "[system prompt]"]
    lines += version.system_prompt.splitlines() + ["", "[template]"] + version.template.splitlines()
    return lines


def _diff_line_class(line: str) -> str:
    if line.startswith(("+++", "---")):
        return "diff-file"
    if line.startswith("@@"):
        return "diff-hunk"
    return {"+": "diff-add", "-": "diff-del"}.get(line[:1], "diff-same")


class PlaygroundForm(forms.Form):
    message = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        max_length=settings.WEB_MAX_INPUT_CHARS,
        help_text="Sent to this draft on its provider. Metered to you, not to any customer.",
    )


def _playground_key(version: PromptVersion) -> str:
    return f"prompt_playground_{version.pk}"


@admin.register(PromptVersion)
class PromptVersionAdmin(admin.ModelAdmin):
    form = PromptVersionForm
    list_display = [
        "agent",
        "version",
        "status",
        "model",
        "provider",
        "temperature",
        "note",
        "created_by",
        "created_at",
    ]
    list_display_links = ["agent", "version"]
    list_filter = ["status", "agent", "model"]
    list_select_related = ["agent", "provider", "created_by"]
    search_fields = ["agent__name", "agent__slug", "note", "model"]
    autocomplete_fields = ["agent"]
    ordering = ["agent__name", "-version"]
    actions = ["activate", "duplicate", "archive"]
    list_max_show_all = 1000
    fieldsets = [
        (None, {"fields": ["agent", "version", "status", "note"]}),
        ("Prompt", {"fields": ["system_prompt", "template"]}),
        (
            "Model",
            {
                "fields": [
                    "model",
                    "provider",
                    "temperature",
                    "max_tokens",
                    "context_tokens",
                    "locked_parameters",
                    "tools",
                ]
            },
        ),
        ("History", {"fields": ["created_by", "created_at", "activated_at", "diff_with_previous"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        readonly = ["version", "status", "created_by", "created_at", "activated_at", "diff_with_previous"]
        return readonly + ["agent"] if obj is not None else readonly

    def has_change_permission(self, request, obj=None):
        """Published versions open read-only (Django's view-only page); posting to them is refused."""
        if obj is not None and obj.status != Status.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.status != Status.DRAFT:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        # Bulk delete would remove published history; drafts are deleted one by one from their page.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<path:object_id>/activate/", wrap(self.activate_view), name="prompts_promptversion_activate"),
            path("<path:object_id>/duplicate/", wrap(self.duplicate_view), name="prompts_promptversion_duplicate"),
            path("<path:object_id>/playground/", wrap(self.playground_view), name="prompts_promptversion_playground"),
            *super().get_urls(),
        ]

    def _version_for_button(self, request, object_id) -> PromptVersion:
        # Model-level change permission: a published version's page is view-only, yet it may be activated.
        if not super().has_change_permission(request):
            raise PermissionDenied
        version = self.get_object(request, object_id)
        if version is None:
            raise Http404
        return version

    @method_decorator(require_POST)
    def activate_view(self, request, object_id):
        """The "Activate" button of a version page; on an archived version it is the rollback."""
        version = services.activate_version(version=self._version_for_button(request, object_id), actor=request.user)
        self.message_user(request, f"{version.agent}: version {version.version} is now active.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:prompts_promptversion_change", args=[version.pk]))

    @method_decorator(require_POST)
    def duplicate_view(self, request, object_id):
        source = self._version_for_button(request, object_id)
        copy = services.duplicate_version(version=source, actor=request.user)
        self.message_user(
            request, f"{copy.agent}: version {copy.version} created as a draft of v{source.version}.", messages.SUCCESS
        )
        return HttpResponseRedirect(reverse("admin:prompts_promptversion_change", args=[copy.pk]))

    @method_decorator(require_POST)
    def playground_view(self, request, object_id):
        """Send one message to a draft on its provider; the answer, tokens and cost show on the draft's page.
        Metered to the operator, never to a customer (agents.playground)."""
        version = self.get_object(request, object_id)
        if version is None:
            raise Http404
        if not self.has_change_permission(request, version):  # drafts only: a published version is read-only
            raise PermissionDenied
        form = PlaygroundForm(request.POST)
        if form.is_valid():
            try:
                answer = try_version(version=version, operator=request.user, input=form.cleaned_data["message"])
            except DomainError as error:
                self.message_user(request, f"The draft could not answer: {error.detail}", messages.ERROR)
            else:
                request.session[_playground_key(version)] = {
                    "message": form.cleaned_data["message"],
                    "output": answer.output,
                    "tokens_input": answer.tokens_input,
                    "tokens_output": answer.tokens_output,
                    "latency_ms": answer.latency_ms,
                    "cost": llm_cost_usd(answer.cost_usd),
                    "is_demo": answer.is_demo,
                }
        else:
            self.message_user(request, "Write a message to send to the draft.", messages.ERROR)
        return HttpResponseRedirect(reverse("admin:prompts_promptversion_change", args=[version.pk]) + "#playground")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        version = self.get_object(request, object_id)
        if version is not None and version.status == Status.DRAFT:
            extra_context = {
                **(extra_context or {}),
                "playground_form": PlaygroundForm(),
                "playground_answer": request.session.pop(_playground_key(version), None),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        content = {name: form.cleaned_data[name] for name in CONTENT_FIELDS if name in form.cleaned_data}
        if change:
            saved = services.update_draft(version=obj, actor=request.user, **content)
        else:
            saved = services.create_draft(agent=form.cleaned_data["agent"], actor=request.user, **content)
        for field in obj._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False

    @admin.display(description="Changes against the previous version")
    def diff_with_previous(self, obj: PromptVersion) -> str:
        if obj.pk is None:
            return "-"
        previous = (
            PromptVersion.objects.select_related("provider")
            .filter(agent_id=obj.agent_id, version__lt=obj.version)
            .order_by("-version")
            .first()
        )
        if previous is None:
            return "First version."
        diff = list(
            difflib.unified_diff(
                _content_text(previous),
                _content_text(obj),
                fromfile=f"v{previous.version}",
                tofile=f"v{obj.version}",
                lineterm="",
            )
        )
        if not diff:
            return "No changes."
        return format_html(
            '<pre class="prompt-diff">{}</pre>',
            format_html_join("", '<span class="{}">{}</span>', ((_diff_line_class(line), line) for line in diff)),
        )

    @admin.action(
        description="Activate (the previous active version is archived; older = rollback)", permissions=["change"]
    )
    def activate(self, request, queryset: QuerySet[PromptVersion]):
        by_agent: dict[int, list[PromptVersion]] = {}
        for version in queryset.select_related("agent"):
            by_agent.setdefault(version.agent_id, []).append(version)
        for versions in by_agent.values():
            if len(versions) > 1:
                self.message_user(
                    request,
                    f"{versions[0].agent}: select only one version to activate; nothing changed for this agent.",
                    messages.ERROR,
                )
                continue
            version = services.activate_version(version=versions[0], actor=request.user)
            self.message_user(request, f"{version.agent}: version {version.version} is now active.", messages.SUCCESS)

    @admin.action(description="Duplicate as a new draft", permissions=["change"])
    def duplicate(self, request, queryset: QuerySet[PromptVersion]):
        for version in queryset.select_related("agent", "provider").order_by("agent_id", "version"):
            copy = services.duplicate_version(version=version, actor=request.user)
            self.message_user(
                request,
                f"{copy.agent}: version {copy.version} created as a draft of v{version.version}.",
                messages.SUCCESS,
            )

    @admin.action(description="Archive", permissions=["change"])
    def archive(self, request, queryset: QuerySet[PromptVersion]):
        for version in queryset.select_related("agent").order_by("agent_id", "version"):
            was_active = version.status == Status.ACTIVE
            services.archive_version(version=version, actor=request.user)
            level = messages.WARNING if was_active else messages.SUCCESS
            suffix = " The agent has no active prompt now." if was_active else ""
            self.message_user(request, f"{version.agent}: version {version.version} archived.{suffix}", level)
