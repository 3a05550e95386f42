import pytest

from agents.tests.factories import AgentFactory
from billing.models import PlanAgent, PlanPrice
from billing.tests.factories import PlanAgentFactory, PlanFactory, PlanPriceFactory

pytestmark = pytest.mark.django_db


def test_plan_factory_gives_a_usd_price_and_the_agents_asked_for():
    agents = AgentFactory.create_batch(2)
    plan = PlanFactory(agents=agents)
    assert list(plan.prices.values_list("currency", flat=True)) == ["USD"]
    assert set(plan.agents.all()) == set(agents)


def test_price_and_plan_agent_factories_build_their_own_plan():
    price = PlanPriceFactory(currency="RUB")
    link = PlanAgentFactory()
    assert PlanPrice.objects.filter(plan=price.plan).count() == 1
    assert PlanAgent.objects.get(pk=link.pk).plan.is_active
    assert not PlanFactory(usd_price=None).prices.exists()
