import json

from django.contrib import admin, messages
from django.utils.html import format_html

from background.models import DeadLetter
from background.services import run_again
from tenants.admin import ReadOnlyAdmin


@admin.register(DeadLetter)
class DeadLetterAdmin(ReadOnlyAdmin):
    """Tasks that gave up. Rows are read-only; running one again needs the *change* permission."""

    list_display = ["failed_at", "task_name", "attempts", "error", "requeued_at"]
    list_filter = ["task_name", ("requeued_at", admin.EmptyFieldListFilter)]
    search_fields = ["task_name", "error", "task_id"]
    date_hierarchy = "failed_at"
    exclude = ["kwargs"]
    readonly_fields = ["arguments"]
    actions = ["run_again"]

    @admin.display(description="Arguments")
    def arguments(self, obj: DeadLetter) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.kwargs, indent=2, ensure_ascii=False, sort_keys=True))

    def has_run_again_permission(self, request) -> bool:
        return request.user.has_perm("background.change_deadletter")

    @admin.action(description="Run again (a fresh round of retries)", permissions=["run_again"])
    def run_again(self, request, queryset):
        for dead_letter in queryset:
            run_again(dead_letter=dead_letter, actor=request.user)
        self.message_user(request, f"Queued again: {queryset.count()} task(s).", messages.INFO)
