"""Reads for billing, always scoped to one organization."""

from itertools import islice

from django.db.models import Q, QuerySet

from billing.models import BillingAccount, Payment
from tenants.models import AuditEvent

HISTORY_ACTIONS = Q(action__startswith="subscription.") | Q(action__startswith="payment.")


def account_for(*, organization) -> BillingAccount | None:
    """The organization's billing account with its plans, or None when it never had one."""
    if organization is None:
        return None
    return BillingAccount.objects.select_related("plan", "scheduled_plan").filter(organization=organization).first()


def payments_for(*, organization) -> QuerySet[Payment]:
    return Payment.objects.filter(account__organization=organization).select_related("plan")


def subscription_changes_for(*, organization) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(HISTORY_ACTIONS, organization=organization).select_related("actor")


def history_for(*, organization, offset: int, limit: int) -> tuple[int, list[tuple[str, object]]]:
    """Payments and subscription changes, newest first, as one list: (total, [(kind, row)…]).

    Two tables cannot share one ORDER BY, so each contributes its newest offset+limit rows and
    the merge keeps the window; two queries plus two counts whatever the page.
    """
    payments = payments_for(organization=organization)
    changes = subscription_changes_for(organization=organization)
    total = payments.count() + changes.count()
    window = offset + limit
    rows = [("payment", row) for row in payments.order_by("-created_at", "-id")[:window]]
    rows += [("change", row) for row in changes.order_by("-created_at", "-id")[:window]]
    rows.sort(key=lambda item: item[1].created_at, reverse=True)
    return total, list(islice(rows, offset, offset + limit))
