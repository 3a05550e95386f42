from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    """What a notice is about; each kind is a switch in the user's preferences (same name)."""

    QUOTA_WARNING = "quota_warning", _("A quota is 80 % used")
    QUOTA_REACHED = "quota_reached", _("A quota is used up")
    PAYMENT_RECEIPT = "payment_receipt", _("Payment receipts")
    RENEWAL_FAILED = "renewal_failed", _("A renewal failed")
    TRIAL_ENDING = "trial_ending", _("The trial ends soon")
    SUBSCRIPTION_ENDED = "subscription_ended", _("The subscription was canceled or expired")
    DAILY_SUMMARY = "daily_summary", _("Daily summary (operators)")


class DeliveryChannel(models.TextChoices):
    EMAIL = "email", "E-mail"
    TELEGRAM = "telegram", "Telegram"


class Notification(models.Model):
    """One notice to one user, recorded before it is sent: `key` (kind + what it is about, e.g. the account,
    period and metric) is unique per user, so a notice is sent once however often, or however
    concurrently, its trigger fires. `channels` lists where it was delivered; `sent_at` when it was done."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    organization = models.ForeignKey(
        "tenants.Organization", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    key = models.CharField(max_length=200)
    context = models.JSONField(default=dict, help_text="What the templates render (JSON-safe values).")
    channels = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="notification_once_per_user")]

    def __str__(self):
        return f"{self.kind} to {self.user_id} ({self.key})"


class NotificationPreferences(models.Model):
    """Which kinds a user wants; a user without a row has the defaults (all on but the operators' summary)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="notification_preferences"
    )
    quota_warning = models.BooleanField(_("A quota is 80 % used"), default=True)
    quota_reached = models.BooleanField(_("A quota is used up"), default=True)
    payment_receipt = models.BooleanField(_("Payment receipts"), default=True)
    renewal_failed = models.BooleanField(_("A renewal failed"), default=True)
    trial_ending = models.BooleanField(_("The trial ends soon"), default=True)
    subscription_ended = models.BooleanField(_("The subscription was canceled or expired"), default=True)
    daily_summary = models.BooleanField(
        _("Daily summary (operators)"), default=False, help_text="Staff only: yesterday's revenue, cost and errors."
    )

    class Meta:
        verbose_name_plural = "notification preferences"

    def __str__(self):
        return f"preferences of {self.user_id}"

    def wants(self, kind: str) -> bool:
        return bool(getattr(self, kind))


PREFERENCE_FIELDS = [kind.value for kind in Kind]
