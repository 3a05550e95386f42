"""Issue 19: a published version's page colours its diff against the previous version."""

import pytest

from accounts.tests.factories import UserFactory
from prompts.tests.factories import ActivePromptVersionFactory, PromptVersionFactory

pytestmark = pytest.mark.django_db


def test_the_prompt_diff_marks_added_and_removed_lines(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    older = PromptVersionFactory(system_prompt="Be brief.\nUse <b>plain</b> words.", status="archived")
    newer = ActivePromptVersionFactory(agent=older.agent, system_prompt="Be brief.\nUse examples.")

    html = client.get(f"/admin/prompts/promptversion/{newer.pk}/change/").content.decode()

    assert '<pre class="prompt-diff">' in html
    assert '<span class="diff-del">-Use &lt;b&gt;plain&lt;/b&gt; words.</span>' in html
    assert '<span class="diff-add">+Use examples.</span>' in html
    assert '<span class="diff-same"> Be brief.</span>' in html
    assert "/static/css/console.css" in html
