from decimal import Decimal

import pytest

from agents.tests.factories import AgentFactory
from billing.models import PlanPrice
from billing.tests.factories import PlanFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/billing/plans"


def test_anyone_can_list_active_plans_with_prices_quotas_and_agents(api_client):
    writer = AgentFactory(slug="writer", name="Writer")
    plan = PlanFactory(
        code="pro",
        name="Pro",
        quota_requests=500,
        quota_tokens_output=None,
        channels=["web", "api"],
        features=["API access"],
        agents=[writer, AgentFactory(is_active=False)],
        usd_price__amount=Decimal("9.50"),
    )
    PlanPrice.objects.create(plan=plan, currency="RUB", amount=Decimal("900"))

    response = api_client.get(URL)

    assert response.status_code == 200
    [body] = response.json()
    assert body["code"] == "pro"
    assert body["name"] == "Pro"
    assert body["quotas"] == {"requests": 500, "tokens_input": None, "tokens_output": None}
    assert body["channels"] == ["web", "api"]
    assert body["features"] == ["API access"]
    assert body["prices"] == [{"currency": "RUB", "amount": "900.00"}, {"currency": "USD", "amount": "9.50"}]
    assert body["agents"] == [{"slug": "writer", "name": "Writer"}]


def test_inactive_plans_are_hidden_and_order_follows_display_order(api_client):
    PlanFactory(code="second", display_order=2)
    PlanFactory(code="first", display_order=1)
    PlanFactory(code="retired", is_active=False)
    assert [plan["code"] for plan in api_client.get(URL).json()] == ["first", "second"]


def test_a_bad_token_does_not_block_the_public_list(api_client):
    PlanFactory()
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert api_client.get(URL).status_code == 200


def test_plan_list_query_count_does_not_grow_with_plans(api_client, django_assert_max_num_queries):
    agents = AgentFactory.create_batch(5)
    for _ in range(30):
        PlanFactory(agents=agents)
    with django_assert_max_num_queries(3):
        response = api_client.get(URL)
    assert len(response.json()) == 30


def test_the_schema_describes_the_plan_list(api_client):
    schema = api_client.get("/api/v1/schema/?format=json").json()
    assert "/api/v1/billing/plans" in schema["paths"]
