from django.contrib import admin

from privacy.models import OrganizationExport


@admin.register(OrganizationExport)
class OrganizationExportAdmin(admin.ModelAdmin):
    """Read-only: exports are requested by owners and prepared by a task."""

    list_display = ("id", "organization", "status", "requested_by", "created_at", "expires_at", "size")
    list_filter = ("status",)
    search_fields = ("organization__name",)
    readonly_fields = [field.name for field in OrganizationExport._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
