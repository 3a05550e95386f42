"""Provider keys never leave for an operator-set URL unless they are that provider's own (issue #8, item 11)."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from agents.models import LLMProvider
from agents.provider_keys import provider_api_key
from agents.tests.factories import LLMProviderFactory
from usage.models import Outcome, PeriodCounter, UsageEvent

OLD_SECRET = "old-secret-" + "o" * 50
NEW_SECRET = "new-secret-" + "n" * 50
GLOBAL_KEY = "sk-global-openai-key"


def _invoke(client, agent):
    return client.post(f"/api/v1/agents/{agent.pk}/invoke", {"input": "hello"}, format="json")


def _authorizations(fake_openai) -> list[str]:
    return [request["headers"].get("Authorization", "") for request in fake_openai.chat_requests]


@pytest.fixture
def seen_secrets(settings):
    settings.OPENAI_API_KEY = GLOBAL_KEY
    return (settings.SECRET_KEY, GLOBAL_KEY)


def test_an_undecryptable_key_fails_closed_and_no_other_key_reaches_the_upstream(
    auth_client, agent, account, upstream_provider, fake_openai, settings, seen_secrets
):
    settings.SECRET_KEY = NEW_SECRET

    response = _invoke(auth_client, agent)

    assert response.status_code == 503
    assert response.json()["code"] == "provider_key_unavailable"
    for header in _authorizations(fake_openai):
        assert not any(secret in header for secret in (*seen_secrets, NEW_SECRET))
    assert fake_openai.chat_requests == []
    assert UsageEvent.objects.get().outcome == Outcome.ERROR
    assert not PeriodCounter.objects.filter(account=account, requests__gt=0).exists()


def test_a_provider_naming_an_apps_secret_sends_nothing(
    auth_client, agent, account, upstream_provider, fake_openai, seen_secrets
):
    # Written behind the admin's back (an old row, a raw SQL edit): refused again at call time.
    LLMProvider.objects.filter(pk=upstream_provider.pk).update(api_key_env="SECRET_KEY")

    response = _invoke(auth_client, agent)

    assert (response.status_code, response.json()["code"]) == (503, "provider_key_unavailable")
    assert fake_openai.chat_requests == []


def test_a_provider_without_a_key_never_borrows_the_global_one(
    auth_client, agent, account, upstream_provider, fake_openai, seen_secrets
):
    LLMProvider.objects.filter(pk=upstream_provider.pk).update(api_key_encrypted="")

    assert _invoke(auth_client, agent).status_code == 200

    assert _authorizations(fake_openai) == ["Bearer no-key"]


def test_the_upstream_sees_only_the_providers_own_key(
    auth_client, agent, account, upstream_provider, fake_openai, seen_secrets
):
    assert _invoke(auth_client, agent).status_code == 200
    assert _authorizations(fake_openai) == ["Bearer sk-test-upstream"]


def test_a_key_stored_under_the_old_secret_still_works_after_rotation(
    auth_client, agent, account, upstream_provider, fake_openai, settings
):
    settings.SECRET_KEY = OLD_SECRET
    LLMProvider.objects.filter(pk=upstream_provider.pk).update(api_key_encrypted="")
    from agents.provider_keys import set_api_key

    set_api_key(upstream_provider, "sk-rotated-key")
    settings.SECRET_KEY = NEW_SECRET
    settings.SECRET_KEY_FALLBACKS = [OLD_SECRET]

    assert _invoke(auth_client, agent).status_code == 200
    assert _authorizations(fake_openai) == ["Bearer sk-rotated-key"]

    call_command("rotate_provider_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings.SECRET_KEY_FALLBACKS = []
    assert provider_api_key(LLMProvider.objects.get(pk=upstream_provider.pk)) == "sk-rotated-key"


def test_a_dedicated_field_encryption_key_encrypts_new_keys(db, settings):
    from cryptography.fernet import Fernet

    settings.FIELD_ENCRYPTION_KEY = [Fernet.generate_key().decode()]
    provider = LLMProviderFactory(openai=True, api_key="sk-under-field-key")
    settings.SECRET_KEY = NEW_SECRET
    assert provider_api_key(LLMProvider.objects.get(pk=provider.pk)) == "sk-under-field-key"


def test_rotation_names_the_keys_nothing_decrypts(db, settings):
    LLMProviderFactory(name="lost", openai=True, api_key="sk-lost")
    settings.SECRET_KEY = NEW_SECRET
    with pytest.raises(CommandError, match="lost"):
        call_command("rotate_provider_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
