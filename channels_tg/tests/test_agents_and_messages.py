from datetime import timedelta

import pytest
from django.utils import timezone

from agents.models import Conversation, Message
from billing.models import AccountStatus, BillingAccount, PlanAgent
from channels_tg.models import TelegramChat

pytestmark = pytest.mark.django_db(transaction=True)


def keyboard(call):
    return [(row[0]["text"], row[0]["callback_data"]) for row in call.params["reply_markup"]["inline_keyboard"]]


def test_start_gives_the_trial_and_says_so(feed, catalog, fake_telegram, tg_user):
    feed(tg_user.text("/start"))

    account = BillingAccount.objects.get(organization__members__telegram_id=tg_user.telegram_id)
    assert account.status == AccountStatus.TRIALING
    assert account.plan == catalog.trial
    [greeting] = fake_telegram.sent_texts(tg_user.chat_id)
    assert "Monthly" in greeting and "trial" in greeting


def test_agents_lists_exactly_the_agents_of_the_plan(feed, catalog, fake_telegram, tg_user):
    feed(tg_user.text("/agents"))

    [offer] = fake_telegram.calls_of("sendMessage")
    assert keyboard(offer) == [("Coder", f"agent:{catalog.coder.pk}"), ("Writer", f"agent:{catalog.writer.pk}")]


def test_choosing_an_agent_then_writing_returns_its_answer(feed, catalog, fake_telegram, fake_openai, tg_user):
    feed(tg_user.press(f"agent:{catalog.writer.pk}"))
    feed(tg_user.text("Write me a haiku"))

    chosen, answer = fake_telegram.sent_texts(tg_user.chat_id)
    assert "Writer" in chosen
    assert answer == "echo: Write me a haiku"
    [request] = fake_openai.chat_requests
    assert request["json"]["messages"][-1] == {"role": "user", "content": "Write me a haiku"}
    assert fake_telegram.calls_of("sendChatAction")[0].params["action"] == "typing"
    chat = TelegramChat.objects.get(chat_id=tg_user.chat_id)
    assert chat.agent == catalog.writer
    assert chat.conversation.channel == "telegram"


def test_next_message_continues_the_conversation_and_new_starts_another(feed, talking, fake_openai):
    feed(talking.text("first"))
    feed(talking.text("second"))

    assert Conversation.objects.count() == 1
    assert [m["content"] for m in fake_openai.chat_requests[-1]["json"]["messages"][1:]] == [
        "first",
        "echo: first",
        "second",
    ]

    feed(talking.text("/new"))
    feed(talking.text("third"))

    assert Conversation.objects.count() == 2
    assert len(fake_openai.chat_requests[-1]["json"]["messages"]) == 2


def test_text_before_choosing_an_agent_asks_to_choose(feed, catalog, fake_telegram, fake_openai, tg_user):
    feed(tg_user.text("hello"))

    assert fake_telegram.sent_texts(tg_user.chat_id) == ["Choose an agent first: /agents"]
    assert fake_openai.chat_requests == []


def test_choosing_an_agent_outside_the_plan_names_the_plans_that_have_it(feed, catalog, fake_telegram, tg_user):
    feed(tg_user.press(f"agent:{catalog.lawyer.pk}"))

    [refusal] = fake_telegram.sent_texts(tg_user.chat_id)
    assert "not included in your plan" in refusal and "Premium" in refusal
    assert TelegramChat.objects.get(chat_id=tg_user.chat_id).agent is None


def test_agent_dropped_from_the_plan_after_choosing_is_explained(feed, catalog, talking, fake_telegram, fake_openai):
    PlanAgent.objects.filter(plan=catalog.trial, agent=catalog.writer).delete()

    feed(talking.text("still there?"))

    [refusal] = fake_telegram.sent_texts(talking.chat_id)
    assert "not included in your plan" in refusal and "Premium" in refusal
    assert fake_openai.chat_requests == []


def test_exhausted_quota_says_when_it_resets(feed, catalog, talking, fake_telegram):
    catalog.trial.quota_requests = 1
    catalog.trial.save(update_fields=["quota_requests"])
    period_end = BillingAccount.objects.get(plan=catalog.trial).current_period_end

    feed(talking.text("one"))
    feed(talking.text("two"))

    # The owner talking to the bot also hears, once, that the quota is used up (the platform's notice).
    notice, answer, refusal = fake_telegram.sent_texts(talking.chat_id)
    assert notice.startswith("Your requests quota is used up")
    assert answer == "echo: one"
    assert "1 of 1" in refusal and period_end.strftime("%Y-%m-%d") in refusal and "/subscribe" in refusal


def test_expired_subscription_points_to_subscribe(feed, catalog, talking, fake_telegram, fake_openai):
    BillingAccount.objects.filter(plan=catalog.trial).update(
        status=AccountStatus.EXPIRED, current_period_end=timezone.now() - timedelta(days=1)
    )

    feed(talking.text("hello"))

    [refusal] = fake_telegram.sent_texts(talking.chat_id)
    assert "not active" in refusal and "/subscribe" in refusal
    assert fake_openai.chat_requests == []


def test_upstream_failure_says_you_were_not_charged(feed, talking, fake_telegram):
    feed(talking.text("FAIL_500 please"))

    [apology] = fake_telegram.sent_texts(talking.chat_id)
    assert "not charged" in apology
    assert not Message.objects.exists()


def test_a_9000_character_answer_arrives_as_three_messages(feed, talking, fake_telegram, settings):
    # No draft edits however slowly the machine writes the answer: this is about splitting.
    settings.TELEGRAM_EDIT_INTERVAL_SECONDS = 60
    feed(talking.text("REPLY_CHARS=9000"))

    pieces = fake_telegram.sent_texts(talking.chat_id)
    assert len(pieces) == 3
    assert all(0 < len(piece) <= 4096 for piece in pieces)
    stored = Message.objects.get(role="assistant").content
    assert " ".join(pieces) == stored


def test_plan_shows_plan_status_usage_and_period_end(feed, catalog, talking, fake_telegram):
    feed(talking.text("one"))
    fake_telegram.clear()

    feed(talking.text("/plan"))

    [status] = fake_telegram.sent_texts(talking.chat_id)
    period_end = BillingAccount.objects.get(plan=catalog.trial).current_period_end
    assert "Plan: Monthly" in status
    assert "Status: trial" in status
    assert period_end.strftime("%Y-%m-%d %H:%M") in status
    assert f"requests: 1 of {catalog.trial.quota_requests}" in status


def test_answers_come_in_the_users_language(feed, catalog, talking, fake_telegram):
    feed(talking.text("/locale ru"))
    BillingAccount.objects.filter(plan=catalog.trial).update(status=AccountStatus.EXPIRED)
    fake_telegram.clear()

    feed(talking.text("hello"))

    [refusal] = fake_telegram.sent_texts(talking.chat_id)
    assert "подписка не активна" in refusal
