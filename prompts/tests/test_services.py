from decimal import Decimal

import pytest

from accounts.tests.factories import UserFactory
from agents.tests.factories import AgentFactory, LLMProviderFactory
from prompts import services
from prompts.errors import PromptError
from prompts.models import PromptVersion, Status
from prompts.selectors import active_version
from prompts.tests.factories import ActivePromptVersionFactory, PromptVersionFactory
from tenants.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator():
    return UserFactory(is_staff=True, is_superuser=True)


def _draft(agent, actor, **content):
    return services.create_draft(agent=agent, actor=actor, system_prompt="You help.", **content)


def test_drafts_are_numbered_one_two_three_per_agent(operator):
    agent, other = AgentFactory(), AgentFactory()
    numbers = [_draft(agent, operator).version for _ in range(3)]
    assert numbers == [1, 2, 3]
    assert _draft(other, operator).version == 1


def test_draft_records_its_author_and_content(operator):
    provider = LLMProviderFactory()
    draft = services.create_draft(
        agent=AgentFactory(),
        actor=operator,
        system_prompt="Be brief.",
        template="Topic {topic}: {input}",
        model="gpt-4o",
        provider=provider,
        temperature="0.2",
        max_tokens=300,
        note="first",
    )
    draft.refresh_from_db()
    assert (draft.status, draft.created_by, draft.provider, draft.temperature) == (
        Status.DRAFT,
        operator,
        provider,
        Decimal("0.20"),
    )


@pytest.mark.parametrize(
    ("content", "code", "field"),
    [
        ({"template": "{input.__class__}"}, "invalid_template", "template"),
        ({"template": "no placeholder"}, "invalid_template", "template"),
        ({"temperature": "2.5"}, "invalid_version", "temperature"),
        ({"temperature": "hot"}, "invalid_version", "temperature"),
        ({"max_tokens": 0}, "invalid_version", "max_tokens"),
        ({"model": " "}, "invalid_version", "model"),
    ],
)
def test_invalid_content_is_refused_with_the_field(operator, content, code, field):
    agent = AgentFactory()
    with pytest.raises(PromptError) as caught:
        _draft(agent, operator, **content)
    assert caught.value.code == code
    assert field in caught.value.extra["fields"]
    assert not PromptVersion.objects.filter(agent=agent).exists()


def test_a_draft_can_be_edited(operator):
    draft = _draft(AgentFactory(), operator)
    services.update_draft(version=draft, actor=operator, system_prompt="Changed.", template="Q: {input}")
    draft.refresh_from_db()
    assert (draft.system_prompt, draft.template) == ("Changed.", "Q: {input}")


def test_activation_archives_the_previous_active_version(operator):
    agent = AgentFactory()
    first, second = _draft(agent, operator), _draft(agent, operator)
    services.activate_version(version=first, actor=operator)
    services.activate_version(version=second, actor=operator)
    first.refresh_from_db()
    assert first.status == Status.ARCHIVED
    assert active_version(agent=agent) == second
    event = AuditEvent.objects.filter(action="prompt.activated").latest("id")
    assert event.organization is None
    assert event.actor == operator
    assert event.before["active_version"] == 1
    assert event.after["active_version"] == 2


def test_rollback_is_activating_an_older_version_and_is_audited(operator):
    agent = AgentFactory()
    first, second = _draft(agent, operator), _draft(agent, operator)
    services.activate_version(version=first, actor=operator)
    services.activate_version(version=second, actor=operator)
    services.activate_version(version=first, actor=operator)
    assert active_version(agent=agent) == first
    second.refresh_from_db()
    assert second.status == Status.ARCHIVED
    event = AuditEvent.objects.get(action="prompt.rolled_back")
    assert (event.before["active_version"], event.after["active_version"]) == (2, 1)
    assert event.target_id == str(first.pk)


def test_activating_the_active_version_changes_nothing(operator):
    version = ActivePromptVersionFactory()
    services.activate_version(version=version, actor=operator)
    assert not AuditEvent.objects.exists()


def test_archive_retires_a_version_and_is_audited(operator):
    version = ActivePromptVersionFactory()
    services.archive_version(version=version, actor=operator)
    version.refresh_from_db()
    assert version.status == Status.ARCHIVED
    assert active_version(agent=version.agent) is None
    assert AuditEvent.objects.get(action="prompt.archived").before["status"] == Status.ACTIVE


def test_duplicate_copies_content_into_the_next_draft(operator):
    source = ActivePromptVersionFactory(system_prompt="Original", template="Hi {name}: {input}", max_tokens=77)
    PromptVersionFactory(agent=source.agent)
    copy = services.duplicate_version(version=source, actor=operator)
    assert copy.status == Status.DRAFT
    assert copy.version == 3
    assert (copy.system_prompt, copy.template, copy.max_tokens) == ("Original", "Hi {name}: {input}", 77)
    assert copy.note.startswith(f"Copy of v{source.version}")


@pytest.mark.parametrize("status", [Status.ACTIVE, Status.ARCHIVED])
def test_published_versions_cannot_be_edited_through_the_service(operator, status):
    version = PromptVersionFactory(status=status)
    with pytest.raises(PromptError) as caught:
        services.update_draft(version=version, actor=operator, system_prompt="Sneaky")
    assert caught.value.code == "version_immutable"
    assert caught.value.http_status == 409
    version.refresh_from_db()
    assert version.system_prompt != "Sneaky"


@pytest.mark.parametrize("status", [Status.ACTIVE, Status.ARCHIVED])
def test_published_versions_cannot_be_changed_by_model_save(status):
    version = PromptVersionFactory(status=status)
    version.template = "Changed {input}"
    with pytest.raises(PromptError) as caught:
        version.save()
    assert caught.value.code == "version_immutable"
    assert "template" in caught.value.detail
    version.refresh_from_db()
    assert version.template == "{input}"


def test_saving_a_published_version_without_changes_is_allowed():
    version = ActivePromptVersionFactory(temperature=Decimal("0.7"))
    version.temperature = 0.7
    version.save()


def test_active_version_is_none_without_one():
    assert active_version(agent=PromptVersionFactory().agent) is None


def test_agent_factory_with_prompt_has_an_active_version():
    agent = AgentFactory(with_prompt=True)
    assert active_version(agent=agent).status == Status.ACTIVE
