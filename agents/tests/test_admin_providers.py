import pytest

from agents.models import LLMProvider
from agents.provider_keys import ProviderKeyUnavailable, has_api_key, provider_api_key, set_api_key
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
    monkeypatch.setenv("CATALOG_TEST_LLM_API_KEY", "sk-from-env")
    provider = LLMProviderFactory(openai=True, api_key="sk-stored", api_key_env="CATALOG_TEST_LLM_API_KEY")
    assert provider_api_key(provider) == "sk-from-env"


def test_a_key_encrypted_under_another_secret_fails_closed(settings):
    provider = LLMProviderFactory(openai=True, api_key="sk-stored")
    settings.SECRET_KEY = "another-secret-" + "x" * 50
    with pytest.raises(ProviderKeyUnavailable):
        provider_api_key(provider)


PROVIDERS = "/admin/agents/llmprovider/"


@pytest.fixture
def console(client):
    from accounts.tests.factories import UserFactory

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def _provider_form(console, url):
    from testing.admin_forms import admin_form_data

    return admin_form_data(console.get(url).content.decode(), "llmprovider_form")


def test_operator_adds_a_provider_and_the_key_is_never_shown_again(console, caplog):
    data = _provider_form(console, PROVIDERS + "add/")
    data.update({"name": "openrouter", "kind": "openai", "base_url": "https://openrouter.example/v1"})
    data["api_key"] = "sk-admin-typed-777"
    response = console.post(PROVIDERS + "add/", data)
    assert response.status_code == 302
    provider = LLMProvider.objects.get(name="openrouter")
    assert provider_api_key(provider) == "sk-admin-typed-777"

    change_page = console.get(f"{PROVIDERS}{provider.pk}/change/").content.decode()
    listing = console.get(PROVIDERS).content.decode()
    for page in (change_page, listing):
        assert "sk-admin-typed-777" not in page
        assert provider.api_key_encrypted not in page
    assert 'alt="True"' in listing
    assert "sk-admin-typed-777" not in caplog.text


def test_saving_without_a_key_keeps_it_and_the_clear_box_removes_it(console):
    provider = LLMProviderFactory(openai=True, api_key="sk-keep")
    url = f"{PROVIDERS}{provider.pk}/change/"
    data = _provider_form(console, url)
    data["timeout"] = "12"
    assert console.post(url, data).status_code == 302
    provider.refresh_from_db()
    assert (provider.timeout, provider_api_key(provider)) == (12.0, "sk-keep")

    data["clear_api_key"] = "on"
    assert console.post(url, data).status_code == 302
    provider.refresh_from_db()
    assert not has_api_key(provider)


def test_the_admin_refuses_an_apps_own_secret_as_the_key_variable(console):
    data = _provider_form(console, PROVIDERS + "add/")
    data.update({"name": "exfil", "kind": "openai", "base_url": "https://attacker.example/v1"})
    for name in ("SECRET_KEY", "PADDLE_API_KEY", "DATABASE_URL"):
        data["api_key_env"] = name
        response = console.post(PROVIDERS + "add/", data)
        assert response.status_code == 200
        assert f"{name} cannot hold a provider key" in response.content.decode()
    assert not LLMProvider.objects.filter(name="exfil").exists()

    data["api_key_env"] = "OPENROUTER_API_KEY"
    assert console.post(PROVIDERS + "add/", data).status_code == 302
    assert LLMProvider.objects.get(name="exfil").api_key_env == "OPENROUTER_API_KEY"


def test_the_allowlist_setting_names_the_only_variables_allowed(console, settings):
    settings.LLM_KEY_ENV_ALLOWED = ["OUR_LLM_TOKEN"]
    data = _provider_form(console, PROVIDERS + "add/")
    data.update({"name": "gateway", "kind": "openai", "api_key_env": "OPENAI_API_KEY"})
    assert "OPENAI_API_KEY cannot hold a provider key" in console.post(PROVIDERS + "add/", data).content.decode()
    data["api_key_env"] = "OUR_LLM_TOKEN"
    assert console.post(PROVIDERS + "add/", data).status_code == 302


def test_a_second_default_provider_is_refused_with_a_clear_message(console):
    LLMProviderFactory(name="current-default", is_default=True)
    data = _provider_form(console, PROVIDERS + "add/")
    data.update({"name": "another", "kind": "demo", "is_default": "on"})
    response = console.post(PROVIDERS + "add/", data)
    assert response.status_code == 200
    assert "current-default is the default provider" in response.content.decode()


def test_model_price_list_renders(console):
    from agents.tests.factories import ModelPriceFactory

    ModelPriceFactory(model="gpt-4o-mini")
    assert "gpt-4o-mini" in console.get("/admin/agents/modelprice/").content.decode()


def test_the_stream_timeouts_are_set_in_the_admin_and_the_total_cannot_be_under_the_first_token(console):
    provider = LLMProviderFactory(openai=True)
    url = f"{PROVIDERS}{provider.pk}/change/"
    data = _provider_form(console, url)
    data.update({"first_token_timeout": "12.5", "total_timeout": "90"})
    assert console.post(url, data).status_code == 302
    provider.refresh_from_db()
    assert (provider.first_token_timeout, provider.total_timeout) == (12.5, 90.0)

    data.update({"first_token_timeout": "60", "total_timeout": "30"})
    response = console.post(url, data)

    assert response.status_code == 200
    assert "Must be at least the first-token timeout." in response.content.decode()
    provider.refresh_from_db()
    assert provider.first_token_timeout == 12.5
