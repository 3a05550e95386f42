"""Issue 15 on the dashboard: the client inbox (clients newest first, each with their conversations,
paginated) and a client's conversation with the agent's tool calls; only the organization's own."""

import json

import pytest
from django.test import Client

from accounts.tests.factories import UserFactory
from agents.models import MessageRole
from channels_web.views.clients import CLIENTS_PER_PAGE
from deployments.models import Contact
from deployments.services import open_conversation
from deployments.tests.factories import ContactFactory, DeploymentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(tenant):
    client = Client()
    client.force_login(UserFactory(organization=tenant.owner.organization, role="member", locale="en"))
    return client


@pytest.fixture
def widget(tenant):
    return DeploymentFactory(organization=tenant.owner.organization, agent=tenant.sales)


def chat(deployment, contact, owner, *texts):
    conversation = open_conversation(deployment=deployment, contact=contact, user=owner)
    for number, text in enumerate(texts):
        conversation.messages.create(role=MessageRole.USER if number % 2 == 0 else MessageRole.ASSISTANT, content=text)
    return conversation


def test_the_inbox_lists_clients_newest_first_with_their_conversations(member, tenant, widget):
    older = ContactFactory(deployment=widget, name="Older client")
    newer = ContactFactory(deployment=widget, name="Newer client")
    Contact.objects.filter(pk=older.pk).update(last_seen_at=newer.last_seen_at.replace(year=2020))
    first = chat(widget, newer, tenant.owner, "Do you deliver?", "Yes.")
    second = chat(widget, newer, tenant.owner, "And on Sundays?")

    page = member.get("/clients/").content.decode()

    assert page.index("Newer client") < page.index("Older client")
    assert page.index(f"/clients/conversations/{second.pk}/") < page.index(f"/clients/conversations/{first.pk}/")
    assert "2 messages" in page and "No conversation yet." in page


def test_the_inbox_is_paginated_in_a_fixed_number_of_queries(member, tenant, widget, django_assert_max_num_queries):
    contacts = [ContactFactory(deployment=widget) for _ in range(CLIENTS_PER_PAGE + 3)]
    for contact in contacts:
        chat(widget, contact, tenant.owner, "Hello", "Hi!")

    with django_assert_max_num_queries(8):
        first = member.get("/clients/")
    last = member.get("/clients/?page=2")

    assert len(first.context["clients"]) == CLIENTS_PER_PAGE and 'rel="next"' in first.content.decode()
    assert len(last.context["clients"]) == 3
    shown = {contact.pk for contact, _ in first.context["clients"] + last.context["clients"]}
    assert shown == {contact.pk for contact in contacts}


def test_a_conversation_shows_the_clients_words_the_tool_calls_and_the_answer(member, tenant, widget):
    contact = ContactFactory(deployment=widget, name="Maria")
    conversation = open_conversation(deployment=widget, contact=contact, user=tenant.owner)
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "register_lead", "arguments": '{"phone": "+351 1"}'},
    }
    conversation.messages.create(role=MessageRole.USER, content="I need a website, call me at +351 1")
    conversation.messages.create(role=MessageRole.ASSISTANT, content="", tool_calls=[call])
    conversation.messages.create(role=MessageRole.TOOL, tool_call_id="call_1", content=json.dumps({"lead_id": 42}))
    conversation.messages.create(role=MessageRole.ASSISTANT, content="Thank you, we will **call** you.")

    page = member.get(f"/clients/conversations/{conversation.pk}/").content.decode()

    assert "I need a website, call me at +351 1" in page
    assert "The agent used the tool “register_lead”" in page and "<dt>phone</dt><dd>+351 1</dd>" in page
    assert "Result of “register_lead”" in page and "<dt>lead_id</dt><dd>42</dd>" in page
    assert "<strong>call</strong>" in page
    order = [page.index(text) for text in ("I need a website", "used the tool", "Result of", "Thank you")]
    assert order == sorted(order)


def test_another_organizations_and_a_members_own_conversations_are_404(member, tenant, widget):
    theirs = DeploymentFactory(organization=tenant.stranger.organization, agent=tenant.sales)
    foreign = chat(theirs, ContactFactory(deployment=theirs, name="Foreign"), tenant.stranger, "Hi")
    from agents.models import Conversation

    own = Conversation.objects.create(
        organization=tenant.owner.organization, user=tenant.owner, agent=tenant.sales, channel="web"
    )

    assert member.get(f"/clients/conversations/{foreign.pk}/").status_code == 404
    assert member.get(f"/clients/conversations/{own.pk}/").status_code == 404
    assert "Foreign" not in member.get("/clients/").content.decode()


def test_a_plan_without_deployments_shows_the_upgrade_prompt_beside_the_clients(member, tenant, widget):
    ContactFactory(deployment=widget, name="Kept client")
    account = tenant.owner.organization.billing_account
    account.plan = tenant.basic
    account.save()

    response = member.get("/clients/")

    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="upgrade"' in page and "Kept client" in page
