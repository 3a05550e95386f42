"""Plans, their prices and their agents changed in the console leave audit rows (who, what, before, after)."""

import pytest

from accounts.tests.factories import UserFactory
from agents.tests.factories import AgentFactory
from billing.models import Plan
from billing.tests.factories import PlanFactory
from tenants.models import AuditEvent
from testing.admin_forms import admin_form_data

pytestmark = pytest.mark.django_db

PLANS = "/admin/billing/plan/"


@pytest.fixture
def operator():
    return UserFactory(email="operator@example.com", is_staff=True, is_superuser=True, organization=None)


@pytest.fixture
def console(client, operator):
    client.force_login(operator)
    return client


def _actions() -> list[str]:
    return sorted(AuditEvent.objects.values_list("action", flat=True))


def test_a_plan_created_with_a_price_and_an_agent_is_audited_row_by_row(console, operator):
    agent = AgentFactory()
    data = admin_form_data(console.get(PLANS + "add/").content.decode(), "plan_form")
    data.update(
        {
            "code": "team",
            "name": "Team",
            "interval": "month",
            "trial_days": "0",
            "display_order": "5",
            "channels": ["web"],
            "prices-TOTAL_FORMS": "1",
            "prices-0-currency": "USD",
            "prices-0-amount": "49.00",
            "plan_agents-TOTAL_FORMS": "1",
            "plan_agents-0-agent": str(agent.pk),
        }
    )

    assert console.post(PLANS + "add/", data).status_code == 302

    plan = Plan.objects.get(code="team")
    assert _actions() == ["plan.created", "plan_agent.created", "plan_price.created"]
    assert set(AuditEvent.objects.values_list("actor", flat=True)) == {operator.pk}
    created = AuditEvent.objects.get(action="plan.created")
    assert (created.target_id, created.after["code"], created.after["channels"]) == (str(plan.pk), "team", ["web"])
    price = AuditEvent.objects.get(action="plan_price.created")
    assert price.after == {"plan": plan.pk, "currency": "USD", "amount": "49.00", "provider_ref": ""}
    assert AuditEvent.objects.get(action="plan_agent.created").after == {"plan": plan.pk, "agent": agent.pk}


def test_editing_a_plan_records_the_changed_quota_and_the_removed_price_and_agent(console, operator):
    agent = AgentFactory()
    plan = PlanFactory(code="pro", agents=[agent], quota_requests=100)
    url = f"{PLANS}{plan.pk}/change/"
    data = admin_form_data(console.get(url).content.decode(), "plan_form")
    data.update({"quota_requests": "250", "prices-0-DELETE": "on", "plan_agents-0-DELETE": "on"})

    assert console.post(url, data).status_code == 302

    assert _actions() == ["plan.changed", "plan_agent.deleted", "plan_price.deleted"]
    changed = AuditEvent.objects.get(action="plan.changed")
    assert (changed.actor, changed.before, changed.after) == (
        operator,
        {"quota_requests": 100},
        {"quota_requests": 250},
    )
    assert AuditEvent.objects.get(action="plan_agent.deleted").before == {"plan": plan.pk, "agent": agent.pk}
    assert not plan.prices.exists() and not plan.plan_agents.exists()


def test_a_plan_deleted_in_the_console_is_audited_with_what_it_held(console):
    plan = PlanFactory(code="retired")

    assert console.post(f"{PLANS}{plan.pk}/delete/", {"post": "yes"}).status_code == 302

    assert not Plan.objects.filter(pk=plan.pk).exists()
    deleted = AuditEvent.objects.get(action="plan.deleted")
    assert (deleted.target_id, deleted.before["code"]) == (str(plan.pk), "retired")
