"""Reads of the policy engine: which agents a caller may use, answered with the same rules as authorize()."""

from django.db.models import QuerySet
from django.utils import timezone

from agents.models import Agent
from policy.errors import PolicyDenied
from policy.services import account_for_policy, check_channel, check_subscription, check_user, scoped_rules


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
