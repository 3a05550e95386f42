"""A demo install meters a cost: the offline demo model has a seeded price, applied when the call is recorded."""

from decimal import Decimal

from agents.demo import DEMO_MODEL_PRICES, seed_catalog
from agents.models import ModelPrice
from agents.tests.factories import AgentFactory
from billing.tests.factories import PlanFactory
from policy.tests.factories import BillingAccountFactory
from usage.models import UsageEvent


def test_a_demo_call_costs_the_seeded_demo_price(auth_client, user):
    seed_catalog()
    agent = AgentFactory(with_prompt=True)
    BillingAccountFactory(organization=user.organization, plan=PlanFactory(agents=[agent]))

    response = auth_client.post(f"/api/v1/agents/{agent.pk}/invoke", {"input": "Hello there"}, format="json")

    assert response.status_code == 200
    event = UsageEvent.objects.get()
    price = ModelPrice.objects.get(model="demo")
    assert (price.input_per_1m, price.output_per_1m) == DEMO_MODEL_PRICES["demo"]
    expected = (price.input_per_1m * event.tokens_input + price.output_per_1m * event.tokens_output) / Decimal(10**6)
    assert event.model == "demo" and event.tokens_output > 0
    assert event.cost_usd == expected.quantize(Decimal("0.00000001")) > 0
