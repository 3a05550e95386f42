"""GET /api/v1/agents[/{id}]: exactly the agents the policy allows on the API channel."""

from accounts.tests.factories import UserFactory
from agents.tests.factories import AgentFactory
from billing.models import AccountStatus
from billing.tests.factories import PlanFactory
from botgeneric.channels import Channel
from policy.models import RuleKind
from policy.selectors import agents_for
from policy.services import check_access
from policy.tests.factories import BillingAccountFactory, PolicyRuleFactory


def _slugs(response):
    return {agent["slug"] for agent in response.json()["results"]}


def test_lists_the_plans_agents_and_rule_allowed_ones_but_not_denied_or_inactive(auth_client, user, agent, account):
    extra = AgentFactory()
    denied = AgentFactory()
    account.plan.plan_agents.create(agent=denied)
    retired = AgentFactory(is_active=False)
    account.plan.plan_agents.create(agent=retired)
    AgentFactory()  # in no plan
    PolicyRuleFactory(kind=RuleKind.ALLOW_AGENT, organization=user.organization, agent=extra)
    PolicyRuleFactory(kind=RuleKind.DENY_AGENT, organization=user.organization, agent=denied)

    response = auth_client.get("/api/v1/agents")

    assert response.status_code == 200
    assert _slugs(response) == {agent.slug, extra.slug}
    assert set(response.json()["results"][0]) == {"id", "slug", "name", "description"}


def test_lists_nothing_without_a_live_subscription_or_the_channel(auth_client, agent, account):
    account.status = AccountStatus.EXPIRED
    account.save(update_fields=["status"])
    assert _slugs(auth_client.get("/api/v1/agents")) == set()

    account.status = AccountStatus.ACTIVE
    account.save(update_fields=["status"])
    account.plan.channels = [Channel.TELEGRAM]
    account.plan.save(update_fields=["channels"])
    assert _slugs(auth_client.get("/api/v1/agents")) == set()


def test_another_plans_agent_is_404_not_403(auth_client, account):
    other = AgentFactory()
    PlanFactory(agents=[other])

    response = auth_client.get(f"/api/v1/agents/{other.pk}")

    assert response.status_code == 404


def test_reads_one_allowed_agent(auth_client, agent, account):
    response = auth_client.get(f"/api/v1/agents/{agent.pk}")

    assert response.status_code == 200
    assert response.json()["slug"] == agent.slug


def test_listing_two_hundred_agents_costs_the_same_queries_as_one(
    auth_client, user, agent, account, django_assert_max_num_queries
):
    account.plan.plan_agents.bulk_create(
        [account.plan.plan_agents.model(plan=account.plan, agent=a) for a in AgentFactory.create_batch(199)]
    )
    auth_client.get("/api/v1/agents")  # the first call of a process loads the policy's rules memo

    with django_assert_max_num_queries(4):
        response = auth_client.get("/api/v1/agents?limit=500")

    assert response.json()["count"] == 200


def test_agents_for_matches_what_check_access_allows(db):
    """The list and the decision are the same rule: every agent is listed iff check_access passes."""
    user = UserFactory()
    in_plan, allowed, denied, retired, outside = AgentFactory.create_batch(5)
    retired.is_active = False
    retired.save(update_fields=["is_active"])
    plan = PlanFactory(agents=[in_plan, denied, retired])
    BillingAccountFactory(organization=user.organization, plan=plan)
    PolicyRuleFactory(kind=RuleKind.ALLOW_AGENT, organization=user.organization, agent=allowed)
    PolicyRuleFactory(kind=RuleKind.DENY_AGENT, organization=None, plan=plan, agent=denied)

    for channel in (Channel.API, Channel.WHATSAPP):
        listed = set(agents_for(user=user, channel=channel))
        decided = set()
        for candidate in (in_plan, allowed, denied, retired, outside):
            try:
                check_access(user=user, agent=candidate, channel=channel)
            except Exception:  # noqa: BLE001 — any denial means "not listed"
                continue
            decided.add(candidate)
        assert listed == decided
    assert set(agents_for(user=user, channel=Channel.API)) == {in_plan, allowed}
