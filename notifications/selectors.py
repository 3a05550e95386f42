"""Reads for notifications: preferences, who hears about what, and what the daily tasks look for."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from billing.models import AccountStatus, BillingAccount, Invoice
from notifications.models import NotificationPreferences
from tenants.models import Role
from usage.models import Outcome, UsageEvent


def preferences_of(*, user_ids: list[int]) -> dict[int, NotificationPreferences]:
    """Each user's preferences (one query); a user who never changed them gets the defaults."""
    stored = {row.user_id: row for row in NotificationPreferences.objects.filter(user_id__in=user_ids)}
    return {user_id: stored.get(user_id) or NotificationPreferences(user_id=user_id) for user_id in user_ids}


def preferences_for(*, user) -> NotificationPreferences:
    return preferences_of(user_ids=[user.pk])[user.pk]


def billing_people(*, organization_id: int) -> list:
    """Who hears about an organization's billing and quotas: its active owners and admins."""
    return list(
        get_user_model()
        .objects.filter(organization_id=organization_id, role__in=(Role.OWNER, Role.ADMIN), is_active=True)
        .order_by("pk")
    )


def summary_readers() -> list:
    """Active staff users who opted in to the operators' daily summary."""
    return list(
        get_user_model()
        .objects.filter(is_staff=True, is_active=True, notification_preferences__daily_summary=True)
        .order_by("pk")
    )


def trials_ending(*, now: datetime, within: timedelta) -> QuerySet[BillingAccount]:
    """Trialing accounts whose trial ends in the next `within`."""
    return BillingAccount.objects.select_related("plan").filter(
        status=AccountStatus.TRIALING, trial_end__gt=now, trial_end__lte=now + within, plan__isnull=False
    )


def day_figures(*, day: date) -> dict:
    """One day's (UTC) revenue per currency (the invoices issued), LLM cost in USD, calls and failed calls."""
    start = timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())
    end = start + timedelta(days=1)
    revenue = list(
        Invoice.objects.filter(issued_at__gte=start, issued_at__lt=end)
        .values("currency")
        .annotate(amount=Sum("amount"))
        .order_by("currency")
    )
    usage = UsageEvent.objects.filter(created_at__gte=start, created_at__lt=end).aggregate(
        cost=Sum("cost_usd"), calls=Count("id"), errors=Count("id", filter=Q(outcome=Outcome.ERROR))
    )
    return {
        "revenue": revenue,
        "cost_usd": usage["cost"] or Decimal(0),
        "calls": usage["calls"],
        "errors": usage["errors"],
    }
