"""An organization's agent put to work for its own clients: on its own Telegram bot or its website."""

from django.conf import settings
from django.db import models


class DeploymentChannel(models.TextChoices):
    """Where a deployment talks to clients; each is also the channel its calls are metered on."""

    TELEGRAM = "telegram", "Telegram bot"
    WIDGET = "widget", "Website widget"


class DeploymentStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"


class Deployment(models.Model):
    """One agent on one channel of the organization's own: a bot (token stored encrypted, never shown
    again) or a website widget (a public key and the origins allowed to embed it)."""

    organization = models.ForeignKey("tenants.Organization", on_delete=models.CASCADE, related_name="deployments")
    agent = models.ForeignKey("agents.Agent", on_delete=models.PROTECT, related_name="deployments")
    channel = models.CharField(max_length=16, choices=DeploymentChannel.choices)
    status = models.CharField(max_length=16, choices=DeploymentStatus.choices, default=DeploymentStatus.ACTIVE)
    name = models.CharField(max_length=120, blank=True)
    public_key = models.CharField(max_length=40, unique=True, help_text="pub_…: names the deployment in widget code.")
    bot_token_encrypted = models.TextField(blank=True, editable=False)
    bot_id = models.BigIntegerField(null=True, blank=True, editable=False)
    bot_username = models.CharField(max_length=64, blank=True, editable=False)
    webhook_secret = models.CharField(max_length=64, blank=True, editable=False)
    allowed_origins = models.JSONField(default=list, blank=True, help_text="https://shop.example.com, one each.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"])]
        constraints = [
            # One deployment per bot: two would fight over its webhook.
            models.UniqueConstraint(fields=["bot_id"], condition=models.Q(bot_id__isnull=False), name="one_bot_once"),
            models.CheckConstraint(
                condition=models.Q(channel__in=DeploymentChannel.values), name="deployment_channel_valid"
            ),
        ]

    def __str__(self):
        target = f"@{self.bot_username}" if self.bot_username else self.public_key
        return f"{self.agent} · {self.get_channel_display()} {target}"


class Contact(models.Model):
    """An end client of the organization (a Telegram user of its bot, a visitor of its website): never a
    User, never able to sign in. Names and handles are what the client gave."""

    organization = models.ForeignKey("tenants.Organization", on_delete=models.CASCADE, related_name="contacts")
    channel = models.CharField(max_length=16, choices=DeploymentChannel.choices)
    external_id = models.CharField(max_length=64, help_text="Telegram user id, or the widget's visitor id.")
    deployment = models.ForeignKey(
        Deployment, on_delete=models.SET_NULL, null=True, blank=True, related_name="contacts"
    )
    name = models.CharField(max_length=200, blank=True)
    handles = models.JSONField(default=dict, blank=True, help_text="telegram, phone, email…, as the client gave them")
    locale = models.CharField(max_length=8, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "channel", "external_id"], name="one_contact_per_identity")
        ]
        indexes = [models.Index(fields=["organization", "-last_seen_at"])]

    def __str__(self):
        return self.name or f"{self.get_channel_display()} {self.external_id}"
