"""Answers render as Markdown on the dashboard, and nothing a model writes runs in the page."""

import re

import pytest

from agents.models import Conversation
from agents.tests.factories import LLMProviderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def echo_agent(agent, fake_openai):
    """The agent answers through the fake upstream, which echoes the question: the test writes the
    model's answer."""
    provider = LLMProviderFactory(openai=True, base_url=fake_openai.base_url, api_key="sk-test")
    agent.prompt_versions.update(provider=provider)
    return agent


def _answer_page(web_client, agent, text: str) -> str:
    response = web_client.post("/dashboard/", {"agent": agent.pk, "input": text})
    assert response.status_code == 302, response.content
    page = web_client.get(response["Location"]).content.decode()
    # Allowed answer HTML has no <div>, so the answer is everything up to the first </div>.
    return re.search(r'<div class="msg-text answer">(.*?)</div>', page, re.S).group(1)


def test_markdown_answers_render_as_paragraphs_lists_links_and_code(web_client, account, echo_agent):
    answer = _answer_page(
        web_client,
        echo_agent,
        "**Plan**\n\n- one\n- two\n\nSee [docs](https://example.com/docs).\n\n```\nprint('hi')\n```",
    )

    assert "<strong>Plan</strong>" in answer
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in answer
    assert '<a href="https://example.com/docs" rel="noopener nofollow">docs</a>' in answer
    assert "<pre><code>print('hi')\n</code></pre>" in answer


def test_script_tags_and_javascript_links_from_the_model_are_neutralized(web_client, account, echo_agent):
    answer = _answer_page(
        web_client,
        echo_agent,
        '<script>alert("x")</script> <img src=x onerror=alert(1)> [click](javascript:alert(1)) '
        '<a href="javascript:alert(2)">raw</a> [data](data:text/html;base64,PHNjcmlwdD4=)',
    )

    tags = re.findall(r"<[a-z][^>]*>", answer)
    assert {tag.split()[0].strip("<>") for tag in tags} <= {"p"}
    assert not [tag for tag in tags if re.search(r"javascript:|data:|\son\w+=", tag)]
    assert '&lt;script&gt;alert("x")&lt;/script&gt;' in answer.replace("&quot;", '"')


def test_the_stored_answer_is_kept_as_the_model_wrote_it(web_client, account, echo_agent):
    _answer_page(web_client, echo_agent, "<b>bold</b>")

    conversation = Conversation.objects.get(user=web_client.user)
    assert conversation.messages.get(role="assistant").content == "echo: <b>bold</b>"


def test_the_page_loads_the_chat_script_from_our_own_static_files(web_client, account, echo_agent):
    page = web_client.get("/dashboard/").content.decode()

    assert '<script src="/static/js/chat.js" defer></script>' in page
    assert "http" not in page.split('<script src="', 1)[1].split('"', 1)[0]
