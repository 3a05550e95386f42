"""Billing's and metering's signals, turned into notices (connected in NotificationsConfig.ready)."""

from django.dispatch import receiver

from billing.signals import payment_succeeded, subscription_changed
from notifications import triggers
from usage.thresholds import threshold_crossed


@receiver(threshold_crossed, dispatch_uid="notifications.quota")
def on_threshold_crossed(sender, **event):
    triggers.quota_crossed(**{name: event[name] for name in QUOTA_ARGUMENTS})


@receiver(payment_succeeded, dispatch_uid="notifications.receipt")
def on_payment_succeeded(sender, payment, invoice, **kwargs):
    triggers.payment_received(payment=payment, invoice=invoice)


@receiver(subscription_changed, dispatch_uid="notifications.subscription")
def on_subscription_changed(sender, account, action, before, **kwargs):
    triggers.subscription_changed(account=account, action=action, before=before)


QUOTA_ARGUMENTS = (
    "account_id",
    "organization_id",
    "metric",
    "percent",
    "limit",
    "used",
    "period_start",
    "period_end",
)
