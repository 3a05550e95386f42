import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.tests.factories import UserFactory
from agents.models import Conversation, Message
from agents.tests.factories import AgentFactory, LLMProviderFactory
from billing.models import AccountStatus
from billing.tests.account_factories import BillingAccountFactory
from billing.tests.factories import PlanFactory
from policy.models import PolicyRule, RuleKind
from prompts.tests.factories import ActivePromptVersionFactory
from usage.models import PeriodCounter, UsageEvent

pytestmark = pytest.mark.django_db


def _send(client, agent, text="Hello there", conversation=None, **extra):
    data = {"agent": agent.pk, "input": text, **extra}
    if conversation is not None:
        data["conversation"] = conversation.pk
    return client.post("/dashboard/", data)


def _options(content: bytes) -> list[str]:
    select = re.search(rb'<select name="agent".*?</select>', content, re.S).group(0).decode()
    return re.findall(r'<option value="(\d+)"', select)


def test_dropdown_offers_exactly_the_plans_agents(web_client, account, agent, yearly, premium_agent):
    AgentFactory(with_prompt=True, is_active=False)

    response = web_client.get("/dashboard/")

    assert response.status_code == 200
    assert _options(response.content) == [str(agent.pk)]


def test_sending_shows_the_answer_with_its_token_usage(web_client, account, agent):
    response = _send(web_client, agent, "What is a quota?")

    conversation = Conversation.objects.get(user=web_client.user)
    assert response.status_code == 302
    assert response["Location"] == f"/dashboard/c/{conversation.pk}/"
    page = web_client.get(response["Location"]).content.decode()
    question = Message.objects.get(conversation=conversation, role="user")
    answer = Message.objects.get(conversation=conversation, role="assistant")
    assert "What is a quota?" in page
    assert answer.content in page
    assert question.tokens_input > 0
    assert f"Tokens: {question.tokens_input} in, {answer.tokens_output} out" in page
    assert 'id="demo-marker"' in page


def test_the_conversation_continues_with_its_history(web_client, account, agent):
    first = _send(web_client, agent, "First question")
    conversation = Conversation.objects.get(user=web_client.user)

    second = _send(web_client, agent, "Second question", conversation=conversation)

    assert second["Location"] == first["Location"]
    assert conversation.messages.count() == 4
    page = web_client.get(second["Location"]).content.decode()
    assert page.index("First question") < page.index("Second question")
    assert f'name="conversation" value="{conversation.pk}"' in page


def test_past_conversations_are_listed_and_open(web_client, account, agent):
    _send(web_client, agent, "Old topic")
    old = Conversation.objects.get(user=web_client.user)
    _send(web_client, agent, "New topic")

    page = web_client.get("/dashboard/").content.decode()

    assert Conversation.objects.filter(user=web_client.user).count() == 2
    assert f'href="/dashboard/c/{old.pk}/"' in page
    assert 'id="new-conversation"' in page
    assert "Old topic" in web_client.get(f"/dashboard/c/{old.pk}/").content.decode()


def test_the_conversation_answered_last_is_listed_first(web_client, account, agent):
    _send(web_client, agent, "Old topic")
    old = Conversation.objects.get(user=web_client.user)
    _send(web_client, agent, "New topic")
    new = Conversation.objects.exclude(pk=old.pk).get(user=web_client.user)
    _send(web_client, agent, "Back to the old topic", conversation=old)

    page = web_client.get("/dashboard/").content.decode()

    assert page.index(f'href="/dashboard/c/{old.pk}/"') < page.index(f'href="/dashboard/c/{new.pk}/"')
    old.refresh_from_db()
    assert old.updated_at == old.messages.order_by("-id").first().created_at


def test_someone_elses_conversation_is_not_found(web_client, account, agent):
    stranger = UserFactory()
    BillingAccountFactory(organization=stranger.organization, plan=account.plan)
    stranger_client = Client()
    stranger_client.force_login(stranger)
    _send(stranger_client, agent, "Private")
    theirs = Conversation.objects.get(user=stranger)

    assert web_client.get(f"/dashboard/c/{theirs.pk}/").status_code == 404
    assert _send(web_client, agent, "Sneaking in", conversation=theirs).status_code == 404
    assert theirs.messages.count() == 2


def test_empty_input_is_refused_inline(web_client, account, agent):
    response = _send(web_client, agent, "   ")

    assert response.status_code == 400
    assert b'class="errorlist' in response.content
    assert not Conversation.objects.exists()


def test_input_over_the_limit_is_refused_inline(web_client, account, agent):
    response = _send(web_client, agent, "x" * 20001)

    assert response.status_code == 400
    assert "at most 20000 characters" in response.content.decode()
    assert not UsageEvent.objects.exists()


def test_agent_outside_the_plan_gets_the_upgrade_message(web_client, account, yearly, premium_agent):
    response = _send(web_client, premium_agent)

    assert response.status_code == 403
    assert "This agent is not included in your plan — upgrade to Yearly to use it." in response.content.decode()
    assert 'href="/billing/"' in response.content.decode()


def test_used_up_quota_says_how_much_and_when_it_resets(web_client, account, agent):
    PeriodCounter.objects.create(
        account=account,
        period_start=account.current_period_start,
        period_end=account.current_period_end,
        requests=100,
    )

    response = _send(web_client, agent)

    assert response.status_code == 429
    content = response.content.decode()
    assert "You have used 100 of 100 requests in this billing period" in content
    assert str(account.current_period_end.year) in content


def test_expired_subscription_links_to_billing(web_client, account, agent):
    account.status = AccountStatus.EXPIRED
    account.current_period_end = timezone.now() - timedelta(days=1)
    account.save()

    response = _send(web_client, agent)

    assert response.status_code == 402
    content = response.content.decode()
    assert "Your subscription is not active" in content
    assert 'href="/billing/">Renew on the billing page' in content


def test_no_subscription_asks_to_choose_a_plan(web_client, agent):
    response = _send(web_client, agent)

    assert response.status_code == 402
    assert "Your organization has no subscription yet" in response.content.decode()


def test_plan_without_the_web_channel_explains_it(web_client, user, agent):
    plan = PlanFactory(agents=[agent], channels=["telegram"])
    BillingAccountFactory(organization=user.organization, plan=plan)

    page = web_client.get("/dashboard/").content.decode()
    response = _send(web_client, agent)

    assert "Your plan includes no agents for the web dashboard." in page
    assert response.status_code == 403
    assert "Your plan does not include the web dashboard" in response.content.decode()


def test_rate_limit_says_how_long_to_wait(web_client, account, agent, user, same_rate_window):
    PolicyRule.objects.create(kind=RuleKind.RATE_LIMIT, organization=user.organization, requests_per_minute=1)
    _send(web_client, agent)

    response = _send(web_client, agent)

    assert response.status_code == 429
    assert re.search(r"Too many requests. Please wait \d+ seconds? and try again.", response.content.decode())


def test_unknown_agent_is_explained(web_client, account):
    response = _send(web_client, type("Gone", (), {"pk": 999999})())

    assert response.status_code == 404
    assert "does not exist or is not available to you" in response.content.decode()


def _openai_agent(fake_openai, plan, **provider):
    llm = LLMProviderFactory(openai=True, base_url=fake_openai.base_url, api_key="sk-test", **provider)
    agent = AgentFactory()
    ActivePromptVersionFactory(agent=agent, provider=llm)
    plan.plan_agents.create(agent=agent)
    return agent


def test_upstream_failure_says_you_were_not_charged(web_client, account, plan, fake_openai):
    agent = _openai_agent(fake_openai, plan)

    response = _send(web_client, agent, "FAIL_500")

    assert response.status_code == 502
    assert "The model provider failed to answer. You were not charged" in response.content.decode()
    assert "Traceback" not in response.content.decode()
    counter = PeriodCounter.objects.filter(account=account).first()
    assert counter is None or counter.requests == 0


def test_upstream_timeout_says_you_were_not_charged(web_client, account, plan, fake_openai):
    agent = _openai_agent(fake_openai, plan, timeout=0.3)

    response = _send(web_client, agent, "FAIL_TIMEOUT")

    assert response.status_code == 504
    assert "took too long to answer. You were not charged" in response.content.decode()


def test_a_real_provider_answer_has_no_demo_marker(web_client, account, plan, fake_openai):
    agent = _openai_agent(fake_openai, plan)

    response = _send(web_client, agent, "Hi")

    assert 'id="demo-marker"' not in web_client.get(response["Location"]).content.decode()


def test_denials_are_shown_in_russian_for_a_russian_user(web_client, account, yearly, premium_agent):
    web_client.user.locale = "ru"
    web_client.user.save()

    response = _send(web_client, premium_agent)

    assert "Этот агент не входит в ваш тариф — перейдите на Yearly" in response.content.decode()


def test_sending_needs_a_csrf_token(user, account, agent):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    assert _send(client, agent).status_code == 403
    assert not Conversation.objects.exists()


def test_dashboard_query_count_does_not_grow_with_conversations(
    web_client, account, agent, yearly, django_assert_max_num_queries
):
    for index in range(3):
        _send(web_client, agent, f"Topic {index}")
    conversation = Conversation.objects.filter(user=web_client.user).first()

    # 10 = 7 for the chat + 2 for the agents other plans include (the agents, their plans) + the billing
    # account (the overdue-payment banner, the reason when no agent is offered).
    with django_assert_max_num_queries(10):
        web_client.get(f"/dashboard/c/{conversation.pk}/")
