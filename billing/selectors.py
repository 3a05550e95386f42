"""Reads for billing: the public plan list, and account reads always scoped to one organization."""

from datetime import datetime, timedelta
from decimal import Decimal
from itertools import islice

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import TruncDate

from agents.models import Agent
from billing.models import AccountStatus, BillingAccount, Invoice, Payment, PaymentStatus, Plan, PlanPrice
from billing.providers import BACKENDS
from tenants.models import AuditEvent

HISTORY_ACTIONS = Q(action__startswith="subscription.") | Q(action__startswith="payment.")


def active_plans() -> QuerySet[Plan]:
    """Plans customers can buy, in display order, with prices and active agents prefetched."""
    return (
        Plan.objects.filter(is_active=True)
        .order_by("display_order", "id")
        .prefetch_related(
            Prefetch("prices", queryset=PlanPrice.objects.order_by("currency")),
            Prefetch("agents", queryset=Agent.objects.filter(is_active=True).order_by("name")),
        )
    )


def account_for(*, organization) -> BillingAccount | None:
    """The organization's billing account with its plans, or None when it never had one."""
    if organization is None:
        return None
    return BillingAccount.objects.select_related("plan", "scheduled_plan").filter(organization=organization).first()


#: Providers that renew subscriptions by themselves and report it (Paddle).
SELF_RENEWING_PROVIDERS = frozenset(name for name, backend in BACKENDS.items() if backend.renews_itself)


def renews_at_provider(account: BillingAccount) -> bool:
    """Whether the provider renews this subscription by itself (and the customer did not cancel it):
    its period end is not the end of access; the provider's report of a renewal, a failure or a
    cancellation is. Reads only the account's own fields."""
    return bool(
        account.provider in SELF_RENEWING_PROVIDERS
        and account.provider_subscription_id
        and not account.cancel_at_period_end
    )


def grace_ends_at(account: BillingAccount) -> datetime | None:
    """When a past_due account (renewal failed, being retried) loses access: BILLING_GRACE_DAYS after
    it became past_due. None for any other status."""
    if account.status != AccountStatus.PAST_DUE or account.past_due_since is None:
        return None
    return account.past_due_since + timedelta(days=settings.BILLING_GRACE_DAYS)


def payments_for(*, organization) -> QuerySet[Payment]:
    return Payment.objects.filter(account__organization=organization).select_related("plan", "invoice")


def invoice_for(*, organization, invoice_id: int) -> Invoice | None:
    """The organization's invoice `invoice_id`; None for another organization's (the caller answers 404)."""
    return Invoice.objects.select_related("payment").filter(account__organization=organization, pk=invoice_id).first()


def subscription_changes_for(*, organization) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(HISTORY_ACTIONS, organization=organization).select_related("actor")


def customer_facing_actor(actor_label: str) -> str:
    """Who made a change, as a customer may see it: operators are "support", never their e-mail."""
    return "support" if actor_label.startswith("operator:") else actor_label


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


def revenue(*, start, end) -> list[dict]:
    """Succeeded payments per day (UTC), plan and currency between two dates, inclusive, newest first."""
    return list(
        Payment.objects.filter(status=PaymentStatus.SUCCEEDED, created_at__date__gte=start, created_at__date__lte=end)
        .annotate(day=TruncDate("created_at"))
        .values("day", "plan__code", "currency")
        .annotate(total=Sum("amount"), payments=Count("id"))
        .order_by("-day", "plan__code", "currency")
    )


def revenue_totals(rows: list[dict]) -> dict[str, Decimal]:
    """The rows of revenue() summed per currency (amounts in different currencies are never added)."""
    totals: dict[str, Decimal] = {}
    for row in rows:
        totals[row["currency"]] = totals.get(row["currency"], Decimal("0")) + row["total"]
    return dict(sorted(totals.items()))


# Audit actions that begin the account's current period (or change its plan for it).
PERIOD_STARTS = (
    "subscription.trial_started",
    "subscription.activated",
    "subscription.upgraded",
    "subscription.downgraded",
    "subscription.renewed",
    "subscription.granted",
)


def is_operator_grant(*, account: BillingAccount) -> bool:
    """Whether an operator gave the current period (free, ending unless support renews it): the customer
    has nothing to resume or cancel there."""
    latest = (
        AuditEvent.objects.filter(organization_id=account.organization_id, action__in=PERIOD_STARTS)
        .order_by("-created_at", "-id")
        .values_list("action", flat=True)
        .first()
    )
    return latest == "subscription.granted"


def agents_in_other_plans(*, exclude_ids) -> list[Agent]:
    """Active agents other than `exclude_ids` that some active plan includes, each with `offered_plans`
    (those plans, in display order): what a customer could get by changing plan. Two queries."""
    agents = (
        Agent.objects.filter(is_active=True)
        .exclude(pk__in=list(exclude_ids))
        .order_by("name")
        .prefetch_related(
            Prefetch(
                "plans",
                queryset=Plan.objects.filter(is_active=True).order_by("display_order", "id"),
                to_attr="offered_plans",
            )
        )
    )
    return [agent for agent in agents if agent.offered_plans]
