"""Reads of the policy engine: which agents a caller may use and how much of its limits it used, answered with
the same rules as authorize()."""

from django.db.models import QuerySet
from django.utils import timezone

from agents.models import Agent
from billing.models import BillingAccount
from policy.errors import PolicyDenied
from policy.services import (
    account_for_policy,
    check_channel,
    check_subscription,
    check_user,
    limits_for,
    quota_period,
    scoped_rules,
)
from usage.selectors import METRICS, period_usage


def agents_for(*, user, channel: str) -> QuerySet[Agent]:
    """Exactly the agents authorize() lets `user` call on `channel` (quotas and rate aside).

    One read of the account, then one query for the agents by id: plan membership and allow/deny rules
    are the memoized ones check_access() evaluates (`policy.rules_cache`), so 200 agents cost one query.
    """
    now = timezone.now()
    account = None
    if user.organization_id is not None:
        account = account_for_policy(organization_id=user.organization_id)
    try:
        check_user(user=user)
        check_subscription(account=account, now=now)
        check_channel(account=account, channel=channel)
    except PolicyDenied:
        return Agent.objects.none()
    return Agent.objects.filter(is_active=True, pk__in=scoped_rules(account=account, now=now).allowed_agent_ids)


def features_for(*, organization) -> set[str]:
    """The plan's features plus the organization's active feature-flag rules (e.g. "advanced_analytics")."""
    account = account_for_policy(organization_id=organization.pk)
    if account is None or account.plan is None:
        return set()
    return set(account.plan.features or []) | scoped_rules(account=account).features


def usage_summary(*, organization) -> list[dict]:
    """Per metric: used, limit (None = unlimited), period_start, period_end of the current quota period.

    Empty when the organization has no plan (nothing to measure against). The limits and the period are
    the policy's (plan quotas plus extra-quota rules); the counts are usage's."""
    account = BillingAccount.objects.select_related("plan").filter(organization=organization).first()
    if account is None or account.plan is None or None in (account.current_period_start, account.current_period_end):
        return []
    limits = limits_for(account=account).as_dict()
    period_start, period_end = quota_period(account=account)
    used = period_usage(account=account, period_start=period_start)
    return [
        {
            "metric": metric,
            "used": used[metric],
            "limit": limits[metric],
            "period_start": period_start,
            "period_end": period_end,
        }
        for metric in METRICS
    ]
