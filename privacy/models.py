from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ExportStatus(models.TextChoices):
    PENDING = "pending", _("Queued")
    RUNNING = "running", _("Being prepared")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")


IN_PROGRESS = (ExportStatus.PENDING, ExportStatus.RUNNING)


class OrganizationExport(models.Model):
    """One request of an owner for a ZIP of the organization's data, prepared by a task.

    The file lives in the private `exports` storage until `expires_at`, when `privacy.tick` deletes it.
    """

    organization = models.ForeignKey("tenants.Organization", on_delete=models.CASCADE, related_name="exports")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=16, choices=ExportStatus.choices, default=ExportStatus.PENDING)
    file = models.CharField(max_length=255, blank=True, help_text="Name of the ZIP in the exports storage.")
    size = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One export in progress per organization: a second request is refused, not queued.
            models.UniqueConstraint(
                fields=["organization"],
                condition=models.Q(status__in=["pending", "running"]),
                name="privacy_one_export_in_progress",
            )
        ]

    def __str__(self):
        return f"export {self.pk} of organization {self.organization_id} ({self.status})"
