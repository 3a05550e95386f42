"""Rules of the policy engine with many cases, at the service level."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from agents.services import invoke
from agents.tests.factories import AgentFactory
from billing.periods import add_interval
from billing.tests.factories import PlanFactory
from botgeneric.channels import Channel
from policy.errors import PolicyDenied
from policy.models import RuleKind
from policy.selectors import features_for
from policy.services import authorize, check_access, check_rate, quota_period
from policy.tests.factories import BillingAccountFactory, PolicyRuleFactory
from usage.models import Outcome, PeriodCounter, UsageEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscribed():
    user = UserFactory()
    agent = AgentFactory(with_prompt=True)
    plan = PlanFactory(agents=[agent], quota_requests=3)
    BillingAccountFactory(organization=user.organization, plan=plan)
    return user, agent, plan


def test_rate_limit_window_opens_again_next_minute(subscribed):
    user, agent, plan = subscribed
    PolicyRuleFactory(kind=RuleKind.RATE_LIMIT, organization=user.organization, requests_per_minute=1)
    access = check_access(user=user, agent=agent, channel=Channel.WEB)
    minute = timezone.now().replace(second=10, microsecond=0)

    check_rate(access=access, now=minute)
    with pytest.raises(PolicyDenied) as denied:
        check_rate(access=access, now=minute + timedelta(seconds=20))
    assert denied.value.extra["retry_after"] == 30
    check_rate(access=access, now=minute + timedelta(minutes=1))


def test_a_rule_scoped_to_organization_and_plan_applies_only_on_that_plan(subscribed):
    user, agent, plan = subscribed
    other_plan = PlanFactory()
    PolicyRuleFactory(kind=RuleKind.RATE_LIMIT, organization=user.organization, plan=other_plan, requests_per_minute=1)

    assert check_access(user=user, agent=agent, channel=Channel.WEB).rate_limit_per_minute == 0


def test_a_rule_that_has_not_started_does_not_apply(subscribed):
    user, agent, _ = subscribed
    PolicyRuleFactory(
        kind=RuleKind.DENY_AGENT,
        organization=user.organization,
        agent=agent,
        starts_at=timezone.now() + timedelta(hours=1),
    )

    check_access(user=user, agent=agent, channel=Channel.WEB)


def test_limits_add_every_active_extra_quota_rule(subscribed):
    user, agent, plan = subscribed
    PolicyRuleFactory(kind=RuleKind.EXTRA_QUOTA, organization=user.organization, extra_requests=2)
    PolicyRuleFactory(kind=RuleKind.EXTRA_QUOTA, organization=None, plan=plan, extra_tokens_input=100)
    PolicyRuleFactory(kind=RuleKind.EXTRA_QUOTA, organization=user.organization, extra_requests=9, is_active=False)

    limits = check_access(user=user, agent=agent, channel=Channel.WEB).limits

    assert (limits.requests, limits.tokens_input, limits.tokens_output) == (5, None, None)


def test_authorize_does_not_reuse_a_decision_made_for_another_channel(subscribed):
    user, agent, plan = subscribed
    plan.channels = [Channel.WEB]
    plan.save(update_fields=["channels"])
    web_access = check_access(user=user, agent=agent, channel=Channel.WEB)

    with pytest.raises(PolicyDenied) as denied:
        authorize(user=user, agent=agent, channel=Channel.TELEGRAM, access=web_access)

    assert denied.value.code == "channel_not_allowed"


def test_grant_carries_the_account_period_limits_and_reservation(subscribed):
    user, agent, _ = subscribed

    grant = authorize(user=user, agent=agent, channel=Channel.WEB, meta={"tokens_input": 7})

    counter = PeriodCounter.objects.get(account=grant.account, period_start=grant.period_start)
    assert (counter.requests, counter.tokens_input) == (1, 7)
    assert (grant.reserved_requests, grant.reserved_tokens_input, grant.limits.requests) == (1, 7, 3)
    assert counter.period_end == grant.period_end


def test_every_channel_goes_through_the_same_service_and_is_metered(subscribed):
    user, agent, _ = subscribed

    result = invoke(user=user, agent=agent, channel=Channel.TELEGRAM, input="from the bot")

    assert result.is_demo and result.conversation.channel == Channel.TELEGRAM
    event = UsageEvent.objects.get()
    assert (event.channel, event.outcome, event.model) == (Channel.TELEGRAM, Outcome.OK, "demo")


def test_quota_period_is_the_plan_interval_inside_a_longer_billing_period(db):
    """An early renewal keeps the period's start and extends its end; quotas still reset monthly."""
    user = UserFactory()
    agent = AgentFactory(with_prompt=True)
    start = timezone.now() - timedelta(days=40)
    account = BillingAccountFactory(
        organization=user.organization,
        plan=PlanFactory(agents=[agent], quota_requests=1),
        current_period_start=start,
        current_period_end=start + timedelta(days=90),
    )
    PeriodCounter.objects.create(
        account=account, period_start=start, period_end=add_interval(start, "month"), requests=1
    )

    period_start, period_end = quota_period(account=account)
    grant = authorize(user=user, agent=agent, channel=Channel.WEB)

    assert (period_start, period_end) == (add_interval(start, "month"), add_interval(start, "month", 2))
    assert grant.period_start == period_start
    with pytest.raises(PolicyDenied) as denied:
        authorize(user=user, agent=agent, channel=Channel.WEB)
    assert denied.value.extra["resets_at"] == period_end.isoformat()


@pytest.mark.parametrize(
    ("interval", "elapsed", "expected_count"),
    [("day", timedelta(hours=50), 2), ("week", timedelta(days=15), 2), ("year", timedelta(days=800), 2)],
)
def test_quota_period_for_every_interval(db, interval, elapsed, expected_count):
    start = timezone.now() - elapsed
    account = BillingAccountFactory(
        plan=PlanFactory(interval=interval), current_period_start=start, current_period_end=start + elapsed * 2
    )

    period_start, period_end = quota_period(account=account)

    assert period_start == add_interval(start, interval, expected_count)
    assert period_end == add_interval(start, interval, expected_count + 1)


def test_features_are_the_plans_plus_active_feature_rules(subscribed):
    user, _, plan = subscribed
    plan.features = ["api_access"]
    plan.save(update_fields=["features"])
    PolicyRuleFactory(kind=RuleKind.FEATURE, organization=user.organization, feature="advanced_analytics")
    PolicyRuleFactory(kind=RuleKind.FEATURE, organization=user.organization, feature="beta", is_active=False)

    assert features_for(organization=user.organization) == {"api_access", "advanced_analytics"}
