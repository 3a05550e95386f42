"""A client tells the customer's bot what they want; the model calls register_lead (the fake upstream
answers with a tool call, then with words after the tool's result); the lead is saved and the owner told."""

import json
from datetime import timedelta

import pytest
from django.test import Client

from agents.models import Conversation, MessageRole
from deployments.models import Contact, Deployment
from deployments.tests.conftest import SHOP_BOT_TOKEN, client_update
from leads.models import Lead
from prompts.models import PromptVersion
from usage.models import PeriodCounter, UsageEvent

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def bot(tenant, fake_telegram):
    PromptVersion.objects.filter(agent=tenant.sales, status="active").update(tools=["register_lead"])
    response = tenant.api.post(
        "/api/v1/deployments",
        {"agent": tenant.sales.pk, "channel": "telegram", "telegram_bot_token": SHOP_BOT_TOKEN},
        format="json",
    )
    return Deployment.objects.get(pk=response.json()["id"])


def write(deployment, text, **who):
    return Client().post(
        f"/telegram/deployments/{deployment.pk}/webhook",
        client_update(text, **who),
        content_type="application/json",
        HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=deployment.webhook_secret,
    )


def test_a_client_message_becomes_a_lead_and_the_owner_is_told_on_telegram(tenant, bot, fake_telegram, fake_openai):
    assert write(bot, "I need a website for my bakery, budget 2000 EUR").status_code == 200

    lead = Lead.objects.get()
    assert (lead.organization_id, lead.deployment_id, lead.status) == (tenant.owner.organization_id, bot.pk, "new")
    assert lead.contact == Contact.objects.get(external_id="777001")
    assert (lead.name, lead.phone, lead.need, lead.budget) == (
        "Maria Silva",
        "+351 912 345 678",
        "A website for a bakery",
        "2000 EUR",
    )
    # The owner linked Telegram and reads Russian: told through the platform bot, with a link to the lead.
    (notice,) = fake_telegram.sent_texts(chat_id=tenant.owner.telegram_id, token=fake_telegram.token)
    assert "Новый лид" in notice and "+351 912 345 678" in notice and f"/leads/{lead.pk}/" in notice
    # The model got the tool's result and answered in words; the client saw that answer.
    first, second = fake_openai.chat_requests
    assert [tool["function"]["name"] for tool in first["json"]["tools"]] == ["register_lead"]
    tool_message = second["json"]["messages"][-1]
    assert tool_message["role"] == "tool" and json.loads(tool_message["content"])["lead_id"] == lead.pk
    reply = fake_telegram.sent_texts(chat_id=777_001, token=SHOP_BOT_TOKEN)[-1]
    assert reply.startswith("echo: ") and str(lead.pk) in reply
    # Calls and results are stored as messages of the exchange, between the question and the answer.
    conversation = Conversation.objects.get(contact=lead.contact)
    assert lead.conversation_id == conversation.pk
    roles = [(m.role, bool(m.tool_calls), bool(m.tool_call_id)) for m in conversation.messages.order_by("id")]
    assert roles == [
        (MessageRole.USER, False, False),
        (MessageRole.ASSISTANT, True, False),
        (MessageRole.TOOL, False, True),
        (MessageRole.ASSISTANT, False, False),
    ]


def test_both_rounds_are_charged_as_one_request(tenant, bot, fake_telegram, fake_openai):
    write(bot, "I need a website")

    (event,) = UsageEvent.objects.filter(outcome="ok")
    counter = PeriodCounter.objects.get()
    assert counter.requests == 1
    assert event.tokens_input > 0 and counter.tokens_input == event.tokens_input
    assert counter.tokens_output == event.tokens_output
    # Each round's prompt is counted: the second one carries the first one's messages and more.
    first, second = fake_openai.chat_requests
    assert event.tokens_input > sum(len(str(m.get("content") or "")) // 4 for m in second["json"]["messages"])


def test_the_next_message_sends_no_tool_steps_as_history(tenant, bot, fake_telegram, fake_openai):
    write(bot, "I need a website")
    PromptVersion.objects.filter(agent=tenant.sales, status="active").update(tools=[])
    write(bot, "When can you start?")

    history = fake_openai.chat_requests[-1]["json"]["messages"]
    assert [m["role"] for m in history] == ["system", "user", "assistant", "user"]
    assert "tool_calls" not in history[2]


def test_the_tool_loop_is_bounded_and_its_last_round_must_answer(tenant, bot, fake_telegram, fake_openai, settings):
    settings.TOOL_LOOP_MAX_ROUNDS = 1

    write(bot, "I need a website")

    (request,) = fake_openai.chat_requests
    assert request["json"]["tool_choice"] == "none"
    assert not Lead.objects.exists()
    assert fake_telegram.sent_texts(chat_id=777_001, token=SHOP_BOT_TOKEN)


def test_a_failing_tool_answers_the_model_with_an_error_and_the_call_goes_on(tenant, fake_openai):
    """On the dashboard there is no client to register: the tool refuses, the model is told, the member
    still gets an answer."""
    from agents.services import invoke
    from botgeneric.channels import Channel

    PromptVersion.objects.filter(agent=tenant.sales, status="active").update(tools=["register_lead"])

    result = invoke(user=tenant.owner, agent=tenant.sales, channel=Channel.WEB, input="I need a website")

    tool_message = fake_openai.chat_requests[-1]["json"]["messages"][-1]
    assert "error" in json.loads(tool_message["content"])
    assert result.output.startswith("echo: ") and "error" in result.output
    assert not Lead.objects.exists()


def test_two_calls_within_five_minutes_make_one_lead_six_minutes_apart_two(tenant, bot, fake_telegram, fake_openai):
    write(bot, "I need a website")
    write(bot, "Also a logo")
    assert Lead.objects.count() == 1

    Lead.objects.update(created_at=Lead.objects.get().created_at - timedelta(minutes=6))
    write(bot, "And a shop")

    assert Lead.objects.count() == 2
    # Only a new lead is announced.
    notices = fake_telegram.sent_texts(chat_id=tenant.owner.telegram_id, token=fake_telegram.token)
    assert len(notices) == 2


def test_leads_api_lists_filters_and_changes_status_inside_the_organization(tenant, bot, fake_telegram, fake_openai):
    write(bot, "I need a website")
    lead = Lead.objects.get()

    assert [row["id"] for row in tenant.api.get("/api/v1/leads?status=new").json()["results"]] == [lead.pk]
    assert tenant.api.get("/api/v1/leads?status=won").json()["results"] == []
    assert tenant.api.get("/api/v1/leads?status=bogus").status_code == 400
    changed = tenant.api.patch(f"/api/v1/leads/{lead.pk}", {"status": "won"}, format="json")
    assert changed.status_code == 200 and changed.json()["status"] == "won"

    assert tenant.stranger_api.get(f"/api/v1/leads/{lead.pk}").status_code == 404
    assert tenant.stranger_api.patch(f"/api/v1/leads/{lead.pk}", {"status": "lost"}, format="json").status_code == 404
    assert tenant.stranger_api.get("/api/v1/leads").json()["results"] == []
    assert Lead.objects.get().status == "won"
