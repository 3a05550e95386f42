"""Shapes of the data export and organization deletion endpoints."""

from rest_framework import serializers

from privacy.models import ExportStatus, OrganizationExport
from privacy.selectors import export_link


class ExportOutput(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=ExportStatus.choices, read_only=True)
    requested_by = serializers.EmailField(source="requested_by.email", allow_null=True, default=None, read_only=True)
    download_url = serializers.SerializerMethodField(
        help_text="While the export is ready: the link e-mailed to the owner (the dashboard's download page, "
        "for the signed-in owner; it expires with the file). Otherwise null."
    )

    class Meta:
        model = OrganizationExport
        fields = ["id", "status", "requested_by", "created_at", "finished_at", "expires_at", "size", "download_url"]

    def get_download_url(self, export: OrganizationExport) -> str | None:
        return export_link(export) if export.status == ExportStatus.READY else None


class DeleteOrganizationInput(serializers.Serializer):
    confirm = serializers.CharField(
        max_length=200, trim_whitespace=True, help_text="The organization's name, typed to confirm the deletion."
    )


class OrganizationDeletionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    deletion_due_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When the organization's data will be erased; null when it is not scheduled for deletion.",
    )
