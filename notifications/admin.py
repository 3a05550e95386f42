from django.contrib import admin

from notifications.models import Notification
from tenants.admin import ReadOnlyAdmin


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """What was sent to whom, and by which channels (read-only: the record of a notice sent once)."""

    list_display = ["created_at", "kind", "user", "organization", "channels", "sent_at"]
    list_filter = ["kind", ("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["key", "user__email"]
    date_hierarchy = "created_at"
    list_select_related = ["user", "organization"]
    raw_id_fields = ["user", "organization"]
