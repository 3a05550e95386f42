"""Leads: what an organization's client told its agent they want, saved by the `register_lead` tool."""

from django.conf import settings
from django.db import models


class LeadStatus(models.TextChoices):
    NEW = "new", "New"
    CONTACTED = "contacted", "Contacted"
    WON = "won", "Won"
    LOST = "lost", "Lost"


OPEN_STATUSES = (LeadStatus.NEW, LeadStatus.CONTACTED)


class Lead(models.Model):
    organization = models.ForeignKey("tenants.Organization", on_delete=models.CASCADE, related_name="leads")
    contact = models.ForeignKey("deployments.Contact", on_delete=models.CASCADE, related_name="leads")
    conversation = models.ForeignKey(
        "agents.Conversation", on_delete=models.SET_NULL, null=True, blank=True, related_name="leads"
    )
    deployment = models.ForeignKey(
        "deployments.Deployment", on_delete=models.SET_NULL, null=True, blank=True, related_name="leads"
    )
    status = models.CharField(max_length=16, choices=LeadStatus.choices, default=LeadStatus.NEW)
    name = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    email = models.CharField(max_length=254, blank=True)
    telegram = models.CharField(max_length=64, blank=True)
    need = models.TextField(blank=True)
    budget = models.CharField(max_length=120, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "status", "-created_at"]),
            models.Index(fields=["contact", "-created_at"]),
        ]

    def __str__(self):
        return f"{self.name or self.contact} · {self.get_status_display()}"


class LeadWatcher(models.Model):
    """A member who asked to be told of new leads too (the owner always is)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lead_watcher")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return str(self.user)
