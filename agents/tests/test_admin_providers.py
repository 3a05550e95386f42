import pytest

from agents.models import LLMProvider
from agents.provider_keys import has_api_key, provider_api_key, set_api_key
from agents.tests.factories import LLMProviderFactory

pytestmark = pytest.mark.django_db


def test_api_key_is_stored_encrypted_and_read_back():
    provider = LLMProviderFactory(openai=True, api_key="sk-live-secret-123")
    stored = LLMProvider.objects.get(pk=provider.pk)
    assert "sk-live-secret-123" not in stored.api_key_encrypted
    assert provider_api_key(stored) == "sk-live-secret-123"
    assert has_api_key(stored)


def test_an_empty_key_clears_the_stored_one():
    provider = LLMProviderFactory(openai=True, api_key="sk-old")
    set_api_key(provider, "")
    provider.refresh_from_db()
    assert provider_api_key(provider) == ""
    assert not has_api_key(provider)


def test_the_environment_variable_wins_over_the_stored_key(monkeypatch):
    monkeypatch.setenv("CATALOG_TEST_LLM_KEY", "sk-from-env")
    provider = LLMProviderFactory(openai=True, api_key="sk-stored", api_key_env="CATALOG_TEST_LLM_KEY")
    assert provider_api_key(provider) == "sk-from-env"


def test_a_key_encrypted_under_another_secret_reads_as_empty(settings):
    provider = LLMProviderFactory(openai=True, api_key="sk-stored")
    settings.SECRET_KEY = "another-secret-" + "x" * 50
    assert provider_api_key(provider) == ""
