"""Reads of the policy engine: which agents a caller may use, answered with the same rules as authorize()."""

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from agents.models import Agent
from billing.models import BillingAccount, PlanAgent
from policy.errors import PolicyDenied
from policy.models import RuleKind
from policy.services import check_channel, check_subscription, check_user, rules_for_scope


def agents_for(*, user, channel: str) -> QuerySet[Agent]:
    """Exactly the agents authorize() lets `user` call on `channel` (quotas and rate aside).

    One read of the account, then one query for the agents (plan membership and allow/deny rules
    as subqueries, so 200 agents cost the same as one).
    """
    now = timezone.now()
    account = None
    if user.organization_id is not None:
        account = BillingAccount.objects.select_related("plan").filter(organization_id=user.organization_id).first()
    try:
        check_user(user=user)
        check_subscription(account=account, now=now)
        check_channel(account=account, channel=channel)
    except PolicyDenied:
        return Agent.objects.none()
    rules = rules_for_scope(organization_ref=account.organization_id, plan_ref=account.plan_id, now=now)
    in_plan = Exists(PlanAgent.objects.filter(plan_id=account.plan_id, agent_id=OuterRef("pk")))
    allowed = Exists(rules.filter(kind=RuleKind.ALLOW_AGENT, agent_id=OuterRef("pk")))
    denied = Exists(rules.filter(kind=RuleKind.DENY_AGENT, agent_id=OuterRef("pk")))
    return Agent.objects.filter(is_active=True).filter(in_plan | allowed).exclude(denied)


def features_for(*, organization) -> set[str]:
    """The plan's features plus the organization's active feature-flag rules (e.g. "advanced_analytics")."""
    account = BillingAccount.objects.select_related("plan").filter(organization=organization).first()
    if account is None or account.plan is None:
        return set()
    rules = rules_for_scope(organization_ref=account.organization_id, plan_ref=account.plan_id)
    flags = rules.filter(kind=RuleKind.FEATURE).exclude(feature="").values_list("feature", flat=True)
    return set(account.plan.features or []) | set(flags)
