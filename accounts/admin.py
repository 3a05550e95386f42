from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.utils.translation import gettext_lazy as _

from accounts.models import TrialClaim, User
from accounts.services import change_password, save_user_by_operator, set_active
from tenants.admin import ReadOnlyAdmin


class PasswordChangeForm(AdminPasswordChangeForm):
    """The console's "change password" goes through the service, which revokes the user's JWTs."""

    def save(self, commit=True):
        usable = self.cleaned_data.get("set_usable_password", True)
        return change_password(user=self.user, password=self.cleaned_data["password1"] if usable else None)


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
        (_("Permissions"), {"fields": ["is_active", "is_staff", "is_superuser", "user_permissions"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    change_password_form = PasswordChangeForm

    def save_model(self, request, obj, form, change):
        active_changed = change and "is_active" in form.changed_data
        save_user_by_operator(user=obj, actor=request.user)
        if active_changed:
            set_active(user=obj, is_active=obj.is_active, actor=request.user)


@admin.register(TrialClaim)
class TrialClaimAdmin(ReadOnlyAdmin):
    """Which identities have had their free trial, so support can answer "why did I get none?"."""

    list_display = ["identity", "organization", "created_at"]
    search_fields = ["identity", "organization__name"]
    list_select_related = ["organization"]
