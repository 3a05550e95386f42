"""The operator console for agents and prompt versions, driven through the admin pages."""

import pytest

from accounts.tests.factories import UserFactory
from agents.models import Agent
from agents.tests.factories import AgentFactory
from billing.tests.factories import PlanFactory
from prompts.models import PromptVersion, Status
from prompts.tests.factories import ActivePromptVersionFactory, PromptVersionFactory
from tenants.models import AuditEvent
from testing.admin_forms import admin_form_data

pytestmark = pytest.mark.django_db

VERSIONS = "/admin/prompts/promptversion/"
AGENTS = "/admin/agents/agent/"


@pytest.fixture
def operator():
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def console(client, operator):
    client.force_login(operator)
    return client


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def _action(console, url, action, objects):
    return console.post(url, {"action": action, "_selected_action": [obj.pk for obj in objects]}, follow=True)


def test_operator_creates_an_agent_with_a_first_draft(console, operator):
    data = admin_form_data(console.get(AGENTS + "add/").content.decode(), "agent_form")
    data.update(
        {
            "name": "Writer",
            "slug": "writer",
            "description": "Writes.",
            "prompt_versions-TOTAL_FORMS": "1",
            "prompt_versions-0-system_prompt": "You write crisp copy. Reply in the user's language.",
            "prompt_versions-0-template": "Brief: {input}",
            "prompt_versions-0-model": "gpt-4o-mini",
            "prompt_versions-0-temperature": "0.5",
            "prompt_versions-0-max_tokens": "400",
            "prompt_versions-0-context_tokens": "16000",
        }
    )
    response = console.post(AGENTS + "add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    version = PromptVersion.objects.get(agent__slug="writer")
    assert (version.version, version.status, version.template, version.created_by) == (
        1,
        Status.DRAFT,
        "Brief: {input}",
        operator,
    )


def test_an_inline_draft_with_a_hostile_template_is_refused(console):
    data = admin_form_data(console.get(AGENTS + "add/").content.decode(), "agent_form")
    data.update(
        {
            "name": "Writer",
            "slug": "writer",
            "prompt_versions-TOTAL_FORMS": "1",
            "prompt_versions-0-system_prompt": "You write.",
            "prompt_versions-0-template": "{input.__class__.__mro__}",
            "prompt_versions-0-model": "gpt-4o-mini",
            "prompt_versions-0-temperature": "0.5",
            "prompt_versions-0-max_tokens": "400",
            "prompt_versions-0-context_tokens": "16000",
        }
    )
    response = console.post(AGENTS + "add/", data)
    assert response.status_code == 200
    assert "attribute and index access" in response.content.decode()
    assert not Agent.objects.filter(slug="writer").exists()


def test_inline_edits_change_drafts_and_leave_published_versions_alone(console):
    active = ActivePromptVersionFactory(system_prompt="Live prompt")
    draft = PromptVersionFactory(agent=active.agent, system_prompt="Draft prompt")
    url = f"{AGENTS}{active.agent_id}/change/"
    data = admin_form_data(console.get(url).content.decode(), "agent_form")
    for index in range(2):
        data[f"prompt_versions-{index}-system_prompt"] = "Edited in the inline"
    response = console.post(url, data)
    assert response.status_code == 302
    active.refresh_from_db()
    draft.refresh_from_db()
    assert active.system_prompt == "Live prompt"
    assert draft.system_prompt == "Edited in the inline"


def test_saving_a_new_version_in_the_admin_takes_the_next_number(console, operator):
    existing = ActivePromptVersionFactory()
    data = admin_form_data(console.get(VERSIONS + "add/").content.decode(), "promptversion_form")
    data.update({"agent": str(existing.agent_id), "system_prompt": "New wording.", "template": "Q: {input}"})
    response = console.post(VERSIONS + "add/", data)
    assert response.status_code == 302
    created = PromptVersion.objects.exclude(pk=existing.pk).get()
    assert (created.version, created.status, created.created_by) == (2, Status.DRAFT, operator)


def test_a_template_with_a_format_spec_is_refused_with_the_reason(console):
    agent = AgentFactory()
    data = admin_form_data(console.get(VERSIONS + "add/").content.decode(), "promptversion_form")
    data.update({"agent": str(agent.pk), "system_prompt": "x", "template": "{input:>10}"})
    response = console.post(VERSIONS + "add/", data)
    assert response.status_code == 200
    assert "format specs" in response.content.decode()
    assert not PromptVersion.objects.exists()


def test_a_draft_is_edited_through_its_change_page(console):
    draft = PromptVersionFactory()
    url = f"{VERSIONS}{draft.pk}/change/"
    data = admin_form_data(console.get(url).content.decode(), "promptversion_form")
    data["template"] = "Context {context}: {input}"
    assert console.post(url, data).status_code == 302
    draft.refresh_from_db()
    assert draft.template == "Context {context}: {input}"


@pytest.mark.parametrize("status", [Status.ACTIVE, Status.ARCHIVED])
def test_a_published_version_page_is_read_only_and_refuses_a_post(console, status):
    version = PromptVersionFactory(status=status, system_prompt="Published")
    url = f"{VERSIONS}{version.pk}/change/"
    page = console.get(url)
    assert page.status_code == 200
    assert 'name="system_prompt"' not in page.content.decode()
    response = console.post(url, {"system_prompt": "Hacked", "template": "{input}", "model": "x"})
    assert response.status_code == 403
    version.refresh_from_db()
    assert version.system_prompt == "Published"


def test_a_published_version_cannot_be_deleted(console):
    version = ActivePromptVersionFactory()
    assert console.get(f"{VERSIONS}{version.pk}/delete/").status_code == 403
    assert "delete_selected" not in console.get(VERSIONS).content.decode()


def test_the_version_page_shows_a_diff_against_the_previous_version(console):
    first = PromptVersionFactory(status=Status.ARCHIVED, system_prompt="Be polite.")
    second = PromptVersionFactory(agent=first.agent, status=Status.ACTIVE, system_prompt="Be polite and brief.")
    content = console.get(f"{VERSIONS}{second.pk}/change/").content.decode()
    assert "--- v1" in content
    assert "-Be polite." in content
    assert "+Be polite and brief." in content


def test_activate_action_activates_and_rolls_back(console, operator):
    first = ActivePromptVersionFactory()
    second = PromptVersionFactory(agent=first.agent)

    response = _action(console, VERSIONS, "activate", [second])
    assert f"version {second.version} is now active" in " ".join(_messages(response))
    first.refresh_from_db()
    assert first.status == Status.ARCHIVED

    response = _action(console, VERSIONS, "activate", [first])
    assert f"version {first.version} is now active" in " ".join(_messages(response))
    second.refresh_from_db()
    assert second.status == Status.ARCHIVED
    rollback = AuditEvent.objects.get(action="prompt.rolled_back")
    assert (rollback.actor, rollback.organization) == (operator, None)


def test_activate_action_refuses_two_versions_of_one_agent(console):
    first = PromptVersionFactory()
    second = PromptVersionFactory(agent=first.agent)
    response = _action(console, VERSIONS, "activate", [first, second])
    assert "select only one version" in " ".join(_messages(response))
    assert not PromptVersion.objects.filter(status=Status.ACTIVE).exists()


def test_duplicate_and_archive_actions(console):
    active = ActivePromptVersionFactory(system_prompt="Keep me")
    response = _action(console, VERSIONS, "duplicate", [active])
    copy = PromptVersion.objects.get(agent=active.agent, status=Status.DRAFT)
    assert copy.system_prompt == "Keep me"
    assert f"version {copy.version} created as a draft" in " ".join(_messages(response))

    response = _action(console, VERSIONS, "archive", [active])
    assert "no active prompt" in " ".join(_messages(response))
    active.refresh_from_db()
    assert active.status == Status.ARCHIVED


def test_agent_actions_activate_the_newest_draft_or_explain_why_not(console):
    with_draft = AgentFactory(name="Has draft")
    PromptVersionFactory(agent=with_draft)
    newest = PromptVersionFactory(agent=with_draft)
    without = AgentFactory(name="No draft")

    response = _action(console, AGENTS, "activate_newest_draft", [with_draft, without])
    text = " ".join(_messages(response))
    assert f"Has draft: version {newest.version} is now active" in text
    assert "No draft: there is no draft to activate" in text
    newest.refresh_from_db()
    assert newest.status == Status.ACTIVE


def test_agent_action_duplicates_the_active_version(console):
    agent = AgentFactory(with_prompt=True)
    response = _action(console, AGENTS, "duplicate_active_version", [agent])
    assert "draft version 2 created from v1" in " ".join(_messages(response))
    assert agent.prompt_versions.filter(status=Status.DRAFT).count() == 1


def test_agent_list_shows_active_version_and_plans(console):
    agent = AgentFactory(name="Listed", with_prompt=True)
    PlanFactory(code="gold", agents=[agent])
    content = console.get(AGENTS + "?q=Listed").content.decode()
    assert "v1" in content
    assert "gold" in content


def test_agent_changelist_with_500_agents_uses_a_bounded_number_of_queries(console, django_assert_max_num_queries):
    agents = Agent.objects.bulk_create([Agent(slug=f"bulk-{i}", name=f"Bulk {i}") for i in range(500)])
    PromptVersion.objects.bulk_create(
        [PromptVersion(agent=agent, version=1, status=Status.ACTIVE, system_prompt="x") for agent in agents]
    )
    PlanFactory(agents=agents)
    PlanFactory(agents=agents[:250])
    with django_assert_max_num_queries(8):
        response = console.get(AGENTS + "?all=")
    assert response.status_code == 200
    assert response.content.decode().count("bulk-") >= 500


def test_version_changelist_with_500_versions_uses_a_bounded_number_of_queries(console, django_assert_max_num_queries):
    agents = Agent.objects.bulk_create([Agent(slug=f"bulk-{i}", name=f"Bulk {i}") for i in range(50)])
    PromptVersion.objects.bulk_create(
        [PromptVersion(agent=agent, version=n, system_prompt="x") for agent in agents for n in range(1, 11)]
    )
    with django_assert_max_num_queries(8):
        response = console.get(VERSIONS + "?all=")
    assert response.status_code == 200


def test_version_page_buttons_roll_back_and_duplicate(console):
    first = PromptVersionFactory(status=Status.ARCHIVED)
    second = PromptVersionFactory(agent=first.agent, status=Status.ACTIVE)
    page = console.get(f"{VERSIONS}{first.pk}/change/").content.decode()
    assert "Activate again (roll back)" in page

    response = console.post(f"{VERSIONS}{first.pk}/activate/", follow=True)
    assert "is now active" in " ".join(_messages(response))
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (Status.ACTIVE, Status.ARCHIVED)

    response = console.post(f"{VERSIONS}{second.pk}/duplicate/")
    copy = PromptVersion.objects.get(agent=first.agent, status=Status.DRAFT)
    assert response["Location"] == f"{VERSIONS}{copy.pk}/change/"


def test_version_buttons_refuse_get_and_non_staff(client, console):
    version = PromptVersionFactory()
    assert console.get(f"{VERSIONS}{version.pk}/activate/").status_code == 405
    client.logout()
    client.force_login(UserFactory())
    assert client.post(f"{VERSIONS}{version.pk}/activate/").status_code == 302
    version.refresh_from_db()
    assert version.status == Status.DRAFT
