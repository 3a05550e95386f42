from django.conf import settings
from django.db import models

from botgeneric.channels import Channel


class Outcome(models.TextChoices):
    OK = "ok", "OK"
    ERROR = "error", "Error"
    DENIED = "denied", "Denied"


class UsageEvent(models.Model):
    """One row per call on any channel, denials and failures included."""

    organization = models.ForeignKey(
        "tenants.Organization", on_delete=models.CASCADE, null=True, blank=True, related_name="usage_events"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    agent = models.ForeignKey("agents.Agent", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    prompt_version = models.ForeignKey(
        "prompts.PromptVersion", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    model = models.CharField(max_length=120, blank=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    error_code = models.CharField(max_length=64, blank=True)
    tokens_input = models.PositiveIntegerField(default=0)
    tokens_output = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    audio_seconds = models.PositiveIntegerField(default=0, help_text="Seconds of audio transcribed (measured).")
    cost_usd = models.DecimalField(max_digits=14, decimal_places=8, default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"])]

    def __str__(self):
        return f"{self.channel} {self.outcome} {self.created_at:%Y-%m-%d %H:%M}"


class PeriodCounter(models.Model):
    """What a billing account used in one billing period; changed only by conditional UPDATEs."""

    account = models.ForeignKey("billing.BillingAccount", on_delete=models.CASCADE, related_name="period_counters")
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    requests = models.PositiveIntegerField(default=0)
    tokens_input = models.PositiveBigIntegerField(default=0)
    tokens_output = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "period_start"], name="period_counter_unique"),
        ]

    def __str__(self):
        return f"{self.account_id} {self.period_start:%Y-%m-%d}: {self.requests} requests"
