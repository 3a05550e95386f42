"""Every deny code of SPEC §5, through POST /api/v1/agents/{id}/invoke, in the order authorize() checks."""

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.api import AgentInvokeView
from agents.services import invoke
from agents.tests.factories import AgentFactory
from billing.models import AccountStatus
from billing.tests.factories import PlanFactory
from botgeneric.channels import Channel
from policy.errors import PolicyDenied
from policy.models import RuleKind
from policy.permissions import PolicyPermission
from policy.tests.factories import BillingAccountFactory, PolicyRuleFactory
from usage.models import Outcome, PeriodCounter, UsageEvent


def _invoke(client, agent, text="Hello"):
    return client.post(f"/api/v1/agents/{agent.pk}/invoke", {"input": text}, format="json")


def _assert_denied(response, status, code):
    assert response.status_code == status, response.json()
    assert response.json()["code"] == code
    assert response.json()["detail"]


def _assert_metered_denial(code):
    event = UsageEvent.objects.get()
    assert (event.outcome, event.error_code) == (Outcome.DENIED, code)
    assert not PeriodCounter.objects.filter(requests__gt=0).exists()


def test_the_invoke_view_is_guarded_by_the_policy_permission():
    assert PolicyPermission in AgentInvokeView.permission_classes


def test_inactive_user_with_a_token_is_refused_user_inactive_before_the_policy(auth_client, user, agent, account):
    """Authentication (JWT) already refuses a deactivated user, with the policy's code and status."""
    user.is_active = False
    user.save(update_fields=["is_active"])

    response = _invoke(auth_client, agent)

    _assert_denied(response, 403, "user_inactive")
    assert not PeriodCounter.objects.exists()


def test_policy_denies_an_inactive_user_that_reached_it(user, agent, account):
    """Channels that resolve users themselves (Telegram) still meet the check: 403 user_inactive."""
    user.is_active = False

    with pytest.raises(PolicyDenied) as denied:
        invoke(user=user, agent=agent, channel=Channel.TELEGRAM, input="hi")

    assert (denied.value.code, denied.value.http_status) == ("user_inactive", 403)
    _assert_metered_denial("user_inactive")


def test_inactive_agent_is_denied_agent_not_found(auth_client, agent, account):
    agent.is_active = False
    agent.save(update_fields=["is_active"])

    _assert_denied(_invoke(auth_client, agent), 404, "agent_not_found")
    _assert_metered_denial("agent_not_found")


def test_unknown_agent_id_is_agent_not_found(auth_client, account):
    response = auth_client.post("/api/v1/agents/987654/invoke", {"input": "hi"}, format="json")

    _assert_denied(response, 404, "agent_not_found")


def test_organization_without_billing_account_is_denied_no_subscription(auth_client, agent, plan):
    _assert_denied(_invoke(auth_client, agent), 402, "no_subscription")
    _assert_metered_denial("no_subscription")


def test_account_without_plan_is_denied_no_subscription(auth_client, agent, user):
    BillingAccountFactory(organization=user.organization, plan=None, status=AccountStatus.NONE)

    _assert_denied(_invoke(auth_client, agent), 402, "no_subscription")


@pytest.mark.parametrize("status", [AccountStatus.PAST_DUE, AccountStatus.CANCELED, AccountStatus.EXPIRED])
def test_account_not_trialing_or_active_is_denied_subscription_inactive(auth_client, agent, account, status):
    account.status = status
    account.save(update_fields=["status"])

    _assert_denied(_invoke(auth_client, agent), 402, "subscription_inactive")
    _assert_metered_denial("subscription_inactive")


def test_active_account_whose_period_ended_is_denied_subscription_inactive(auth_client, agent, account):
    account.current_period_end = timezone.now() - timedelta(minutes=1)
    account.save(update_fields=["current_period_end"])

    _assert_denied(_invoke(auth_client, agent), 402, "subscription_inactive")


def test_trialing_account_is_allowed(auth_client, agent, account):
    account.status = AccountStatus.TRIALING
    account.save(update_fields=["status"])

    assert _invoke(auth_client, agent).status_code == 200


def test_agent_outside_the_plan_is_denied_with_the_plans_that_include_it(auth_client, account):
    other = AgentFactory(with_prompt=True)
    yearly = PlanFactory(code="yearly", name="Yearly", agents=[other], display_order=4)
    weekly = PlanFactory(code="weekly", name="Weekly", agents=[other], display_order=2)
    PlanFactory(code="retired", agents=[other], is_active=False)

    response = _invoke(auth_client, other)

    _assert_denied(response, 403, "agent_not_in_plan")
    assert response.json()["upgrade_plans"] == [
        {"code": weekly.code, "name": weekly.name},
        {"code": yearly.code, "name": yearly.name},
    ]
    _assert_metered_denial("agent_not_in_plan")


def test_allow_agent_rule_lets_an_organization_use_an_agent_outside_its_plan(auth_client, user, account):
    other = AgentFactory(with_prompt=True)
    PolicyRuleFactory(kind=RuleKind.ALLOW_AGENT, organization=user.organization, agent=other)

    assert _invoke(auth_client, other).status_code == 200


def test_deny_agent_rule_beats_the_plan(auth_client, user, agent, account):
    PolicyRuleFactory(kind=RuleKind.DENY_AGENT, organization=user.organization, agent=agent)

    _assert_denied(_invoke(auth_client, agent), 403, "agent_not_in_plan")


def test_expired_rule_no_longer_applies(auth_client, user, agent, account):
    PolicyRuleFactory(
        kind=RuleKind.DENY_AGENT,
        organization=user.organization,
        agent=agent,
        ends_at=timezone.now() - timedelta(seconds=1),
    )

    assert _invoke(auth_client, agent).status_code == 200


def test_plan_without_the_api_channel_is_denied_channel_not_allowed(auth_client, agent, account):
    account.plan.channels = [Channel.WEB, Channel.TELEGRAM]
    account.plan.save(update_fields=["channels"])

    response = _invoke(auth_client, agent)

    _assert_denied(response, 403, "channel_not_allowed")
    assert response.json()["channel"] == "api"
    _assert_metered_denial("channel_not_allowed")


def test_default_rate_limit_answers_429_with_retry_after(auth_client, agent, account, settings, same_rate_window):
    settings.DEFAULT_RATE_LIMIT_PER_MINUTE = 2

    assert [_invoke(auth_client, agent).status_code for _ in range(2)] == [200, 200]
    response = _invoke(auth_client, agent)

    _assert_denied(response, 429, "rate_limited")
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 60
    assert response.json()["retry_after"] == retry_after
    assert PeriodCounter.objects.get().requests == 2


def test_organization_rate_rule_overrides_the_plan_rule_and_the_default(
    auth_client, user, agent, account, settings, same_rate_window
):
    settings.DEFAULT_RATE_LIMIT_PER_MINUTE = 100
    PolicyRuleFactory(kind=RuleKind.RATE_LIMIT, organization=None, plan=account.plan, requests_per_minute=5)
    PolicyRuleFactory(kind=RuleKind.RATE_LIMIT, organization=user.organization, requests_per_minute=1)

    assert _invoke(auth_client, agent).status_code == 200
    _assert_denied(_invoke(auth_client, agent), 429, "rate_limited")


def test_request_quota_used_up_is_denied_with_metric_limit_used_and_reset(auth_client, agent, account):
    account.plan.quota_requests = 1
    account.plan.save(update_fields=["quota_requests"])

    assert _invoke(auth_client, agent).status_code == 200
    response = _invoke(auth_client, agent)

    _assert_denied(response, 429, "quota_exceeded")
    body = response.json()
    assert (body["metric"], body["limit"], body["used"]) == ("requests", 1, 1)
    assert body["resets_at"] == account.current_period_end.isoformat()
    assert PeriodCounter.objects.get().requests == 1


def test_extra_quota_rule_raises_the_request_limit(auth_client, user, agent, account):
    account.plan.quota_requests = 1
    account.plan.save(update_fields=["quota_requests"])
    PolicyRuleFactory(kind=RuleKind.EXTRA_QUOTA, organization=user.organization, extra_requests=1)

    assert [_invoke(auth_client, agent).status_code for _ in range(3)] == [200, 200, 429]


def test_output_token_quota_reserves_the_versions_max_tokens_and_settles_to_the_real_count(auth_client, agent, account):
    max_tokens = agent.prompt_versions.get().max_tokens
    account.plan.quota_tokens_output = max_tokens + 5
    account.plan.save(update_fields=["quota_tokens_output"])

    first = _invoke(auth_client, agent)
    assert first.status_code == 200
    used = first.json()["usage"]["tokens_output"]
    assert 5 < used < max_tokens
    assert PeriodCounter.objects.get().tokens_output == used
    response = _invoke(auth_client, agent)

    _assert_denied(response, 429, "quota_exceeded")
    assert (response.json()["metric"], response.json()["used"]) == ("tokens_output", used)


def test_input_token_quota_is_checked_on_the_reserved_estimate(auth_client, agent, account):
    account.plan.quota_tokens_input = 10
    account.plan.save(update_fields=["quota_tokens_input"])

    response = _invoke(auth_client, agent, text="x" * 400)

    _assert_denied(response, 429, "quota_exceeded")
    assert (response.json()["metric"], response.json()["limit"]) == ("tokens_input", 10)


def test_checks_run_in_order_an_inactive_subscription_is_reported_before_the_plan(auth_client, account):
    account.status = AccountStatus.EXPIRED
    account.save(update_fields=["status"])
    other = AgentFactory(with_prompt=True)

    _assert_denied(_invoke(auth_client, other), 402, "subscription_inactive")


def test_a_denied_call_reserves_nothing(auth_client, agent, account):
    account.plan.channels = [Channel.WEB]
    account.plan.save(update_fields=["channels"])

    _invoke(auth_client, agent)

    assert not PeriodCounter.objects.exists()
