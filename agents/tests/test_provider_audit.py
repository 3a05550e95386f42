"""Provider settings and keys changed in the console are audited, and no key ever enters an audit row."""

import json

import pytest

from accounts.tests.factories import UserFactory
from agents.models import LLMProvider
from agents.tests.factories import LLMProviderFactory
from tenants.models import AuditEvent
from testing.admin_forms import admin_form_data

pytestmark = pytest.mark.django_db

PROVIDERS = "/admin/agents/llmprovider/"


@pytest.fixture
def operator():
    return UserFactory(email="operator@example.com", is_staff=True, is_superuser=True, organization=None)


@pytest.fixture
def console(client, operator):
    client.force_login(operator)
    return client


def _form(console, url):
    return admin_form_data(console.get(url).content.decode(), "llmprovider_form")


def _audit_text() -> str:
    return json.dumps(list(AuditEvent.objects.values("before", "after", "actor_label")))


def test_a_provider_added_with_a_key_is_audited_without_the_key(console, operator):
    data = _form(console, PROVIDERS + "add/")
    data.update({"name": "openrouter", "kind": "openai", "api_key": "sk-typed-in-console-555"})

    assert console.post(PROVIDERS + "add/", data).status_code == 302

    provider = LLMProvider.objects.get(name="openrouter")
    actions = list(AuditEvent.objects.order_by("pk").values_list("action", "actor", "target_id"))
    assert actions == [
        ("provider.created", operator.pk, str(provider.pk)),
        ("provider.key_set", operator.pk, str(provider.pk)),
    ]
    assert "sk-typed-in-console-555" not in _audit_text()
    assert provider.api_key_encrypted not in _audit_text()


def test_a_new_timeout_and_a_removed_key_are_audited(console, operator):
    provider = LLMProviderFactory(openai=True, api_key="sk-old-key", timeout=30)
    url = f"{PROVIDERS}{provider.pk}/change/"
    data = _form(console, url)
    data.update({"timeout": "12", "clear_api_key": "on"})

    assert console.post(url, data).status_code == 302

    changed, removed = AuditEvent.objects.order_by("pk")
    assert (changed.action, changed.before, changed.after) == ("provider.changed", {"timeout": 30.0}, {"timeout": 12.0})
    assert (removed.action, removed.actor) == ("provider.key_removed", operator)
    assert "sk-old-key" not in _audit_text()


def test_saving_a_provider_without_touching_the_key_writes_no_key_row(console):
    provider = LLMProviderFactory(openai=True, api_key="sk-keep")
    url = f"{PROVIDERS}{provider.pk}/change/"

    assert console.post(url, _form(console, url)).status_code == 302

    assert not AuditEvent.objects.exists()
