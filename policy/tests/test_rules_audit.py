"""Policy rules saved and deleted in the console leave audit rows in the organization they apply to."""

import pytest

from accounts.tests.factories import UserFactory
from agents.tests.factories import AgentFactory
from policy.models import PolicyRule, RuleKind
from tenants.models import AuditEvent
from tenants.tests.factories import OrganizationFactory
from testing.admin_forms import admin_form_data

pytestmark = pytest.mark.django_db

RULES = "/admin/policy/policyrule/"


@pytest.fixture
def operator():
    return UserFactory(email="operator@example.com", is_staff=True, is_superuser=True, organization=None)


@pytest.fixture
def console(client, operator):
    client.force_login(operator)
    return client


def test_a_deny_rule_added_in_the_console_is_audited_for_its_organization(console, operator):
    organization, agent = OrganizationFactory(), AgentFactory()
    data = admin_form_data(console.get(RULES + "add/").content.decode(), "policyrule_form")
    data.update({"kind": RuleKind.DENY_AGENT, "organization": str(organization.pk), "agent": str(agent.pk)})

    assert console.post(RULES + "add/", data).status_code == 302

    rule = PolicyRule.objects.get()
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.organization) == ("policy_rule.created", operator, organization)
    assert (event.target_type, event.target_id) == ("policy.policyrule", str(rule.pk))
    assert (event.after["kind"], event.after["agent"]) == ("deny_agent", agent.pk)


def test_a_rate_limit_changed_and_then_deleted_in_the_console_is_audited(console, operator):
    organization = OrganizationFactory()
    rule = PolicyRule.objects.create(kind=RuleKind.RATE_LIMIT, organization=organization, requests_per_minute=60)
    url = f"{RULES}{rule.pk}/change/"
    data = admin_form_data(console.get(url).content.decode(), "policyrule_form")
    data["requests_per_minute"] = "5"

    assert console.post(url, data).status_code == 302
    assert console.post(f"{RULES}{rule.pk}/delete/", {"post": "yes"}).status_code == 302

    changed, deleted = AuditEvent.objects.order_by("pk")
    assert (changed.action, changed.before, changed.after) == (
        "policy_rule.changed",
        {"requests_per_minute": 60},
        {"requests_per_minute": 5},
    )
    assert (deleted.action, deleted.actor, deleted.organization) == ("policy_rule.deleted", operator, organization)
    assert deleted.before["requests_per_minute"] == 5
    assert not PolicyRule.objects.exists()


def test_rules_deleted_together_from_the_list_are_audited_one_by_one(console):
    rules = [
        PolicyRule.objects.create(kind=RuleKind.RATE_LIMIT, organization=OrganizationFactory(), requests_per_minute=n)
        for n in (10, 20)
    ]
    selected = [str(rule.pk) for rule in rules]

    response = console.post(RULES, {"action": "delete_selected", "_selected_action": selected, "post": "yes"})

    assert response.status_code == 302
    assert not PolicyRule.objects.exists()
    deleted = AuditEvent.objects.filter(action="policy_rule.deleted")
    assert sorted(deleted.values_list("target_id", flat=True)) == sorted(selected)
    assert {event.organization for event in deleted} == {rule.organization for rule in rules}
