"""Outgoing webhooks: the endpoints an organization registers, and each event's delivery to one of them.

Not to be confused with `billing.WebhookEvent`, the notifications payment providers send us."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    SUBSCRIPTION_CHANGED = "subscription.changed", _("Subscription changed")
    PAYMENT_SUCCEEDED = "payment.succeeded", _("Payment succeeded")
    USAGE_THRESHOLD = "usage.threshold", _("Usage threshold reached")
    LEAD_CREATED = "lead.created", _("Lead created")
    MEMBER_JOINED = "member.joined", _("Member joined")


class WebhookEndpoint(models.Model):
    """A URL of the organization's that hears of the events it subscribed to, signed with its secret."""

    organization = models.ForeignKey("tenants.Organization", on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list, help_text="Subset of the event types.")
    is_active = models.BooleanField(default=True)
    secret_encrypted = models.TextField(help_text="The signing secret, encrypted; shown to the customer once.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "is_active"])]

    def __str__(self):
        return self.url


class EventOnce(models.Model):
    """The key of an event sent at most once (a usage threshold of one period), claimed by its first emit."""

    organization = models.ForeignKey("tenants.Organization", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "key"], name="webhooks_event_once")]

    def __str__(self):
        return self.key


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class WebhookDelivery(models.Model):
    """One event for one endpoint: retried with backoff until the endpoint answers 2xx, or failed after
    WEBHOOKS_RETRY_HOURS. A resend is a new delivery of the same event (same event id, for the receiver's
    idempotency)."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.CharField(max_length=40, db_index=True)
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    body = models.JSONField(help_text="What is posted: id, type, created, organization, data.")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["endpoint", "-created_at"]),
            models.Index(fields=["status", "next_attempt_at"]),
        ]

    def __str__(self):
        return f"{self.event_type} {self.event_id} → {self.endpoint_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One POST of a delivery: what the endpoint answered (or why nothing was sent) and how long it took."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    attempted_at = models.DateTimeField()
    succeeded = models.BooleanField(default=False)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-attempted_at", "-id"]

    def __str__(self):
        return f"{self.delivery_id} @ {self.attempted_at:%Y-%m-%d %H:%M:%S} → {self.status_code or self.error}"
