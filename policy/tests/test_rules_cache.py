"""Rules and plan memberships are memoized per process, and a change applies on the very next call.

Transactional tests: invalidation runs after commit, as in production (a test-wrapping transaction
would never commit).
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.tests.factories import AgentFactory
from billing.models import PlanAgent
from billing.tests.factories import PlanFactory
from botgeneric.channels import Channel
from policy.errors import DenyCode, PolicyDenied
from policy.models import RuleKind
from policy.services import check_access
from policy.tests.factories import BillingAccountFactory, PolicyRuleFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def agent():
    return AgentFactory(with_prompt=True)


@pytest.fixture
def plan(user, agent):
    plan = PlanFactory(agents=[agent])
    BillingAccountFactory(organization=user.organization, plan=plan)
    return plan


def _invoke(auth_client, agent):
    return auth_client.post(f"/api/v1/agents/{agent.pk}/invoke", {"input": "hello"}, format="json")


def test_a_deny_rule_created_after_an_invoke_denies_the_next_one(auth_client, user, agent, plan):
    assert _invoke(auth_client, agent).status_code == 200

    PolicyRuleFactory(kind=RuleKind.DENY_AGENT, organization=user.organization, agent=agent)
    response = _invoke(auth_client, agent)

    assert response.status_code == 403
    assert response.json()["code"] == DenyCode.AGENT_NOT_IN_PLAN


def test_an_agent_removed_from_the_plan_is_denied_on_the_next_invoke(auth_client, agent, plan):
    assert _invoke(auth_client, agent).status_code == 200

    PlanAgent.objects.get(plan=plan, agent=agent).delete()
    response = _invoke(auth_client, agent)

    assert response.json()["code"] == DenyCode.AGENT_NOT_IN_PLAN


def test_an_agent_added_to_the_plan_is_allowed_on_the_next_invoke(auth_client, agent, plan):
    extra = AgentFactory(with_prompt=True)
    assert _invoke(auth_client, extra).json()["code"] == DenyCode.AGENT_NOT_IN_PLAN

    plan.agents.add(extra)

    assert _invoke(auth_client, extra).status_code == 200


def test_an_allow_rule_stops_allowing_once_its_end_has_passed(user, plan):
    outside = AgentFactory(with_prompt=True)
    now = timezone.now()
    rule = PolicyRuleFactory(
        kind=RuleKind.ALLOW_AGENT, organization=user.organization, agent=outside, ends_at=now + timedelta(minutes=5)
    )

    check_access(user=user, agent=outside, channel=Channel.API, now=now)
    with pytest.raises(PolicyDenied) as denied:
        check_access(user=user, agent=outside, channel=Channel.API, now=rule.ends_at)

    assert denied.value.code == DenyCode.AGENT_NOT_IN_PLAN


def test_a_rate_limit_rule_switched_off_stops_applying(user, agent, plan):
    rule = PolicyRuleFactory(kind=RuleKind.RATE_LIMIT, organization=user.organization, requests_per_minute=7)
    assert check_access(user=user, agent=agent, channel=Channel.API).rate_limit_per_minute == 7

    rule.is_active = False
    rule.save(update_fields=["is_active"])

    assert check_access(user=user, agent=agent, channel=Channel.API).rate_limit_per_minute != 7
