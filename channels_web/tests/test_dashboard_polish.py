"""Issue 19, the dashboard: conversations named with their agent, renamed, deleted, searched; an agent kept
per conversation; agents the plan lacks shown with the plan that has them; no subscription said plainly."""

import pytest
from django.test import Client

from accounts.tests.factories import UserFactory
from agents.models import Conversation, Message
from agents.tests.factories import AgentFactory
from billing.models import AccountStatus
from billing.tests.account_factories import BillingAccountFactory
from usage.models import UsageEvent

pytestmark = pytest.mark.django_db


def _start(client, agent, text="Hello there"):
    client.post("/dashboard/", {"agent": agent.pk, "input": text})
    return Conversation.objects.filter(user=client.user).order_by("-id").first()


def test_the_list_names_each_conversations_agent(web_client, account, agent):
    _start(web_client, agent)

    html = web_client.get("/dashboard/").content.decode()

    assert '<span class="conversation-agent">Helper</span>' in html


def test_a_conversation_is_renamed(web_client, account, agent):
    conversation = _start(web_client, agent)

    response = web_client.post(f"/dashboard/c/{conversation.pk}/rename/", {"title": "  Pricing   questions "})

    assert response.status_code == 302
    conversation.refresh_from_db()
    assert conversation.title == "Pricing questions"
    page = web_client.get(f"/dashboard/c/{conversation.pk}/").content.decode()
    assert '<h1 id="chat-title">Pricing questions</h1>' in page and "Conversation renamed." in page


def test_a_too_long_title_is_refused_in_words(web_client, account, agent):
    conversation = _start(web_client, agent)

    web_client.post(f"/dashboard/c/{conversation.pk}/rename/", {"title": "x" * 201})

    assert "at most 200 characters" in web_client.get(f"/dashboard/c/{conversation.pk}/").content.decode()
    conversation.refresh_from_db()
    assert conversation.title != "x" * 201


def test_a_conversation_is_deleted_with_its_messages_and_its_usage_stays(web_client, account, agent):
    conversation = _start(web_client, agent)
    events = UsageEvent.objects.count()

    response = web_client.post(f"/dashboard/c/{conversation.pk}/delete/")

    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    assert not Conversation.objects.filter(pk=conversation.pk).exists()
    assert not Message.objects.filter(conversation_id=conversation.pk).exists()
    assert UsageEvent.objects.count() == events
    assert "Conversation deleted." in web_client.get("/dashboard/").content.decode()


def test_someone_elses_conversation_cannot_be_renamed_or_deleted(web_client, account, agent):
    other = UserFactory()
    BillingAccountFactory(organization=other.organization, plan=account.plan)
    stranger = Client()
    stranger.force_login(other)
    stranger.user = other
    theirs = _start(stranger, agent)

    assert web_client.post(f"/dashboard/c/{theirs.pk}/rename/", {"title": "mine"}).status_code == 404
    assert web_client.post(f"/dashboard/c/{theirs.pk}/delete/").status_code == 404
    assert Conversation.objects.get(pk=theirs.pk).title == theirs.title


def test_rename_and_delete_need_post(web_client, account, agent):
    conversation = _start(web_client, agent)

    assert web_client.get(f"/dashboard/c/{conversation.pk}/delete/").status_code == 405
    assert Conversation.objects.filter(pk=conversation.pk).exists()


def test_search_finds_conversations_by_title_agent_or_message(web_client, account, agent):
    first = _start(web_client, agent, "Quarterly invoice for ACME")
    second = _start(web_client, agent, "Holiday greetings")
    web_client.post(f"/dashboard/c/{second.pk}/rename/", {"title": "Cards"})

    by_message = web_client.get("/dashboard/", {"q": "invoice"}).context["conversations"]
    by_title = web_client.get("/dashboard/", {"q": "cards"}).context["conversations"]
    by_agent = web_client.get("/dashboard/", {"q": "helper"}).context["conversations"]
    nothing = web_client.get("/dashboard/", {"q": "zebra"})

    assert [c.pk for c in by_message] == [first.pk]
    assert [c.pk for c in by_title] == [second.pk]
    assert {c.pk for c in by_agent} == {first.pk, second.pk}
    assert nothing.context["conversations"] == [] and "No conversation matches." in nothing.content.decode()


def test_a_conversation_keeps_its_agent(web_client, account, agent, plan):
    other_agent = AgentFactory(with_prompt=True, name="Second")
    plan.agents.add(other_agent)
    conversation = _start(web_client, agent)

    page = web_client.get(f"/dashboard/c/{conversation.pk}/").content.decode()
    web_client.post("/dashboard/", {"agent": other_agent.pk, "input": "still you?", "conversation": conversation.pk})

    assert '<select name="agent"' not in page
    assert '<strong id="fixed-agent">Helper</strong>' in page
    assert "A conversation stays with its agent" in page
    assert conversation.messages.count() == 4
    assert Conversation.objects.filter(user=web_client.user).count() == 1


def test_the_message_box_comes_before_the_conversation_links(web_client, account, agent):
    _start(web_client, agent)

    html = web_client.get("/dashboard/").content.decode()

    assert html.index('id="id_input"') < html.index('class="conversation-list"')


def test_agents_outside_the_plan_are_shown_with_their_plan_and_an_upgrade_link(
    web_client, account, agent, yearly, premium_agent
):
    premium_agent.description = "Reads your numbers."
    premium_agent.save()

    html = web_client.get("/dashboard/").content.decode()
    locked = html[html.index(f'id="agent-{premium_agent.slug}"') :].split("</li>", 1)[0]

    assert "In the Yearly plan" in locked and "Reads your numbers." in locked
    assert f'href="/billing/#plan-{yearly.code}">Upgrade to Yearly</a>' in locked
    assert f'<option value="{premium_agent.pk}"' not in html


def test_each_agent_shows_its_description(web_client, account, agent):
    agent.description = "Answers anything, briefly."
    agent.save()

    assert "Answers anything, briefly." in web_client.get("/dashboard/").content.decode()


def test_no_subscription_says_so_and_links_to_the_plans(web_client, agent, plan):
    html = web_client.get("/dashboard/").content.decode()

    assert "Your organization has no subscription yet." in html
    assert '<a href="/billing/">Choose a plan</a>' in html
    assert "Your plan includes no agents" not in html


def test_an_ended_subscription_says_so(web_client, account, agent):
    account.status = AccountStatus.EXPIRED
    account.save()

    html = web_client.get("/dashboard/").content.decode()

    assert "Your subscription has ended." in html
