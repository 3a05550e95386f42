"""Operators lock request parameters per prompt version on its admin page."""

import pytest

from accounts.tests.factories import UserFactory
from prompts.models import PromptVersion
from prompts.tests.factories import PromptVersionFactory
from testing.admin_forms import admin_form_data

pytestmark = pytest.mark.django_db

VERSIONS = "/admin/prompts/promptversion/"


@pytest.fixture
def console(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_an_operator_locks_parameters_on_a_draft(console):
    draft = PromptVersionFactory()
    page = console.get(f"{VERSIONS}{draft.pk}/change/").content.decode()
    data = admin_form_data(page, "promptversion_form")
    data.update({"locked_parameters": ["temperature", "tools"], "context_tokens": "3000"})

    response = console.post(f"{VERSIONS}{draft.pk}/change/", data)

    assert response.status_code == 302
    draft = PromptVersion.objects.get(pk=draft.pk)
    assert (draft.locked_parameters, draft.context_tokens) == (["temperature", "tools"], 3000)


def test_the_version_page_lists_every_lockable_parameter(console):
    draft = PromptVersionFactory(locked_parameters=["seed"])

    page = console.get(f"{VERSIONS}{draft.pk}/change/").content.decode()

    assert admin_form_data(page, "promptversion_form")["locked_parameters"] == "seed"
    for name in ("temperature", "top_p", "max_tokens", "stop", "response_format", "tools"):
        assert f'value="{name}"' in page
