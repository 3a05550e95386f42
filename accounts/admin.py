from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["-date_joined"]
    list_display = [
        "email",
        "name",
        "organization",
        "role",
        "auth_provider",
        "locale",
        "is_active",
        "is_staff",
        "date_joined",
    ]
    list_filter = ["is_active", "is_staff", "role", "auth_provider", "locale", "email_verified"]
    search_fields = ["email", "name", "organization__name", "telegram_id"]
    list_select_related = ["organization"]
    autocomplete_fields = ["organization"]
    readonly_fields = ["last_login", "date_joined", "telegram_id"]
    fieldsets = [
        (None, {"fields": ["email", "password", "name", "locale"]}),
        (_("Organization"), {"fields": ["organization", "role"]}),
        (_("Identity"), {"fields": ["auth_provider", "email_verified", "telegram_id"]}),
        (_("Permissions"), {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
