"""Plans in the operator console: prices and agents inline, channels as checkboxes, bounded lists."""

import pytest

from accounts.tests.factories import UserFactory
from agents.tests.factories import AgentFactory
from billing.models import Plan, PlanAgent, PlanPrice
from billing.tests.factories import PlanFactory
from testing.admin_forms import admin_form_data

pytestmark = pytest.mark.django_db

PLANS = "/admin/billing/plan/"


@pytest.fixture
def console(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def _new_plan_data(console, **overrides):
    data = admin_form_data(console.get(PLANS + "add/").content.decode(), "plan_form")
    data.update(
        {
            "code": "team",
            "name": "Team",
            "name_ru": "Команда",
            "interval": "month",
            "trial_days": "7",
            "quota_requests": "5000",
            "quota_tokens_input": "",
            "channels": ["web", "api"],
            "features": "Priority support\n\nAPI access\n",
            "display_order": "5",
            "is_active": "on",
            "prices-TOTAL_FORMS": "2",
            "prices-0-currency": "usd",
            "prices-0-amount": "49.00",
            "prices-0-provider_ref": "pri_team_usd",
            "prices-1-currency": "RUB",
            "prices-1-amount": "3990",
            "plan_agents-TOTAL_FORMS": "1",
        }
    )
    data.update(overrides)
    return data


def test_operator_creates_a_plan_with_prices_agents_and_channels(console):
    agent = AgentFactory()
    response = console.post(PLANS + "add/", _new_plan_data(console, **{"plan_agents-0-agent": str(agent.pk)}))
    assert response.status_code == 302
    plan = Plan.objects.get(code="team")
    assert plan.channels == ["web", "api"]
    assert plan.features == ["Priority support", "API access"]
    assert (plan.quota_requests, plan.quota_tokens_input) == (5000, None)
    prices = dict(PlanPrice.objects.filter(plan=plan).values_list("currency", "provider_ref"))
    assert prices == {"USD": "pri_team_usd", "RUB": ""}
    assert list(PlanAgent.objects.filter(plan=plan).values_list("agent", flat=True)) == [agent.pk]


def test_the_plan_page_offers_channels_as_checkboxes_with_help(console):
    content = console.get(PLANS + "add/").content.decode()
    for channel in ("web", "telegram", "api", "whatsapp"):
        assert f'type="checkbox" name="channels" value="{channel}"' in content
    assert "empty = unlimited" in content.lower()


def test_an_unknown_channel_is_refused(console):
    response = console.post(PLANS + "add/", _new_plan_data(console, channels=["web", "fax"]))
    assert response.status_code == 200
    assert "fax is not one of the available choices" in response.content.decode()
    assert not Plan.objects.filter(code="team").exists()


def test_a_bad_currency_code_is_refused(console):
    response = console.post(PLANS + "add/", _new_plan_data(console, **{"prices-1-currency": "R1B"}))
    assert response.status_code == 200
    assert "three-letter ISO 4217 code" in response.content.decode()


def test_editing_a_plan_keeps_its_features_and_channels(console):
    plan = PlanFactory(channels=["telegram"], features=["A", "B"])
    url = f"{PLANS}{plan.pk}/change/"
    data = admin_form_data(console.get(url).content.decode(), "plan_form")
    data["name"] = "Renamed"
    assert console.post(url, data).status_code == 302
    plan.refresh_from_db()
    assert (plan.name, plan.channels, plan.features) == ("Renamed", ["telegram"], ["A", "B"])


def test_plan_search_finds_by_code(console):
    PlanFactory(code="enterprise", name="Enterprise")
    PlanFactory(code="hobby", name="Hobby")
    content = console.get(PLANS + "?q=enterp").content.decode()
    assert "Enterprise" in content
    assert "Hobby" not in content


def test_plan_changelist_with_500_plans_uses_a_bounded_number_of_queries(console, django_assert_max_num_queries):
    plans = Plan.objects.bulk_create(
        [Plan(code=f"bulk-{i}", name=f"Bulk {i}", interval="month", display_order=i) for i in range(500)]
    )
    PlanPrice.objects.bulk_create([PlanPrice(plan=plan, currency="USD", amount="1.00") for plan in plans])
    agents = AgentFactory.create_batch(3)
    PlanAgent.objects.bulk_create([PlanAgent(plan=plan, agent=agent) for plan in plans for agent in agents])
    with django_assert_max_num_queries(8):
        response = console.get(PLANS + "?all=")
    assert response.status_code == 200
    assert response.content.decode().count("1.00 USD") == 500
