import pytest

from accounts.tests.factories import UserFactory
from policy.models import PolicyRule, RuleKind
from policy.tests.factories import PolicyRuleFactory


@pytest.fixture
def operator_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_rule_changelist_searches_and_filters(operator_client, django_assert_max_num_queries):
    PolicyRuleFactory.create_batch(20, kind=RuleKind.RATE_LIMIT, requests_per_minute=10)
    PolicyRuleFactory(kind=RuleKind.RATE_LIMIT, organization__slug="acme-unique", requests_per_minute=5)

    with django_assert_max_num_queries(12):
        response = operator_client.get("/admin/policy/policyrule/?q=acme-unique&kind=rate_limit")

    assert response.status_code == 200
    assert response.context["cl"].result_count == 1


def test_operator_adds_a_rate_limit_rule_for_an_organization(operator_client):
    organization = PolicyRuleFactory().organization

    response = operator_client.post(
        "/admin/policy/policyrule/add/",
        {
            "kind": RuleKind.RATE_LIMIT,
            "organization": organization.pk,
            "requests_per_minute": 30,
            "extra_requests": 0,
            "extra_tokens_input": 0,
            "extra_tokens_output": 0,
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    assert PolicyRule.objects.filter(organization=organization, requests_per_minute=30).exists()


def test_the_rule_form_picks_organization_and_agent_by_autocomplete(operator_client):
    response = operator_client.get("/admin/policy/policyrule/add/")

    assert response.status_code == 200
    form = response.context["adminform"].form
    for name in ["organization", "agent"]:
        assert type(form.fields[name].widget.widget).__name__ == "AutocompleteSelect"
    html = response.content.decode()
    assert 'data-ajax--url="/admin/autocomplete/"' in html
    assert 'name="organization" class="vForeignKeyRawIdAdminField' not in html


def test_rule_list_says_each_rule_in_a_few_words(operator_client):
    PolicyRuleFactory(kind=RuleKind.RATE_LIMIT, requests_per_minute=12, organization__name="Acme")
    PolicyRuleFactory(kind=RuleKind.EXTRA_QUOTA, extra_requests=5000, extra_tokens_output=20000)

    html = operator_client.get("/admin/policy/policyrule/").content.decode()

    assert "Rate limit: 12/min" in html and "Extra quota: +5,000 requests, +20,000 output tokens" in html
    assert '<td class="field-applies_to">Acme</td>' in html and '<td class="field-window">always</td>' in html
