from django.contrib import admin

from channels_tg.models import TelegramChat


@admin.register(TelegramChat)
class TelegramChatAdmin(admin.ModelAdmin):
    """Read-only: chats are created by the bot and changed by its commands, never by hand."""

    list_display = ["chat_id", "user", "agent", "updated_at"]
    list_select_related = ["user", "agent"]
    search_fields = ["=chat_id", "user__email", "=user__telegram_id"]
    readonly_fields = ["chat_id", "user", "agent", "conversation", "created_at", "updated_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
