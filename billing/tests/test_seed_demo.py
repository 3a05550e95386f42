from io import StringIO

import pytest
from django.core.management import call_command

from agents.models import Agent, LLMProvider, ProviderKind
from agents.provider_keys import provider_api_key
from billing.models import PlanAgent
from prompts.models import PromptVersion, Status
from tenants.models import AuditEvent

pytestmark = pytest.mark.django_db

EXPECTED_PLANS = {
    "sales-bot": {"daily", "weekly", "monthly", "yearly"},
    "support-bot": {"daily", "weekly", "monthly", "yearly"},
    "translator": {"monthly", "yearly"},
    "legal-advisor": {"yearly"},
}


@pytest.fixture
def no_openai(settings):
    settings.OPENAI_API_KEY = ""
    settings.OPENAI_BASE_URL = ""
    settings.DEMO_PASSWORD = "demo-password-for-tests-42"


def _seed_demo():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _catalog_snapshot():
    return (
        list(Agent.objects.order_by("slug").values("slug", "name", "description", "is_active")),
        list(PromptVersion.objects.order_by("agent__slug", "version").values("agent__slug", "version", "status")),
        sorted(PlanAgent.objects.values_list("agent__slug", "plan__code")),
        list(LLMProvider.objects.order_by("name").values("name", "kind", "is_default")),
    )


def test_seed_demo_creates_the_demo_agents_in_their_plans(no_openai):
    _seed_demo()
    memberships = {}
    for slug, code in PlanAgent.objects.values_list("agent__slug", "plan__code"):
        memberships.setdefault(slug, set()).add(code)
    assert memberships == EXPECTED_PLANS
    assert dict(Agent.objects.values_list("slug", "name")) == {
        "sales-bot": "Sales Bot",
        "support-bot": "Support Bot",
        "translator": "Translator",
        "legal-advisor": "Legal Advisor",
    }


def test_each_demo_agent_has_an_active_and_an_older_archived_version(no_openai):
    _seed_demo()
    for agent in Agent.objects.all():
        versions = list(agent.prompt_versions.order_by("version").values_list("version", "status"))
        assert versions == [(1, Status.ARCHIVED), (2, Status.ACTIVE)]
    assert AuditEvent.objects.filter(action="prompt.activated").count() == 2 * len(EXPECTED_PLANS)


def test_demo_prompts_are_valid_and_ask_for_the_users_language(no_openai):
    from prompts.rendering import render

    _seed_demo()
    for version in PromptVersion.objects.filter(status=Status.ACTIVE):
        assert "language" in version.system_prompt
        assert "hello" in render(version.template, input="hello", variables={})


def test_without_openai_key_the_demo_provider_is_the_default(no_openai):
    _seed_demo()
    provider = LLMProvider.objects.get(is_default=True)
    assert (provider.name, provider.kind) == ("demo", ProviderKind.DEMO)


def test_openai_settings_make_an_openai_provider_the_default(no_openai, settings):
    _seed_demo()
    settings.OPENAI_API_KEY = "sk-test-from-env"
    settings.OPENAI_BASE_URL = "http://127.0.0.1:9/v1"
    out = _seed_demo()
    provider = LLMProvider.objects.get(is_default=True)
    assert (provider.kind, provider.base_url) == (ProviderKind.OPENAI, "http://127.0.0.1:9/v1")
    assert provider_api_key(provider) == "sk-test-from-env"
    assert "sk-test-from-env" not in out
    assert "sk-test-from-env" not in provider.api_key_encrypted


def test_seed_demo_twice_changes_nothing_in_the_catalog(no_openai):
    _seed_demo()
    before = _catalog_snapshot()
    out = _seed_demo()
    assert _catalog_snapshot() == before
    assert "Created agents" not in out
