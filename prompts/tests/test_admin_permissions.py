"""Issue 11 item 12: a staff user who may only view prompt versions cannot change them through admin actions."""

import pytest
from django.contrib.auth.models import Permission

from accounts.tests.factories import UserFactory
from prompts.models import PromptVersion, Status
from prompts.tests.factories import ActivePromptVersionFactory, PromptVersionFactory

pytestmark = pytest.mark.django_db

VERSIONS = "/admin/prompts/promptversion/"
AGENTS = "/admin/agents/agent/"


@pytest.fixture
def viewer_console(client):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.set(
        Permission.objects.filter(codename__in=["view_promptversion", "view_agent", "change_agent"])
    )
    client.force_login(viewer)
    return client


def _post_action(console, url, action, objects):
    return console.post(url, {"action": action, "_selected_action": [obj.pk for obj in objects]}, follow=True)


@pytest.mark.parametrize("action", ["activate", "duplicate", "archive"])
def test_view_only_staff_cannot_run_a_prompt_version_action(viewer_console, action):
    active = ActivePromptVersionFactory()
    draft = PromptVersionFactory(agent=active.agent)

    changelist = viewer_console.get(VERSIONS)
    assert changelist.status_code == 200
    assert f'value="{action}"' not in changelist.content.decode()

    response = _post_action(viewer_console, VERSIONS, action, [draft if action == "activate" else active])
    assert response.status_code == 200
    assert list(PromptVersion.objects.order_by("pk").values_list("status", flat=True)) == [Status.ACTIVE, Status.DRAFT]


@pytest.mark.parametrize("action", ["activate_newest_draft", "duplicate_active_version"])
def test_agent_prompt_actions_need_the_prompt_change_permission(viewer_console, action):
    active = ActivePromptVersionFactory()
    PromptVersionFactory(agent=active.agent)

    changelist = viewer_console.get(AGENTS)
    assert changelist.status_code == 200
    assert f'value="{action}"' not in changelist.content.decode()

    response = _post_action(viewer_console, AGENTS, action, [active.agent])
    assert response.status_code == 200
    assert list(PromptVersion.objects.order_by("pk").values_list("status", flat=True)) == [Status.ACTIVE, Status.DRAFT]
