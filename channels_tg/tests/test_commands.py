import asyncio

import pytest
from asgiref.sync import async_to_sync
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from accounts.tests.factories import UserFactory
from channels_tg.bot import get_dispatcher, poll
from channels_tg.tests.conftest import WEBHOOK_SECRET
from tenants.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)


def test_locale_ru_switches_the_language_of_later_replies(feed, fake_telegram, tg_user):
    feed(tg_user.text("/help"))
    feed(tg_user.text("/locale ru"))
    feed(tg_user.text("/help"))

    english_help, switched, russian_help = fake_telegram.sent_texts(tg_user.chat_id)
    assert english_help.startswith("Commands:")
    assert switched == "Теперь я отвечаю по-русски."
    assert russian_help.startswith("Команды:")
    assert User.objects.get(telegram_id=tg_user.telegram_id).locale == "ru"


def test_locale_buttons_switch_the_language(feed, fake_telegram, tg_user):
    feed(tg_user.text("/locale"))
    [offer] = fake_telegram.calls_of("sendMessage")
    buttons = [row[0]["callback_data"] for row in offer.params["reply_markup"]["inline_keyboard"]]
    assert buttons == ["locale:en", "locale:ru"]

    feed(tg_user.press("locale:ru"))

    assert User.objects.get(telegram_id=tg_user.telegram_id).locale == "ru"
    assert fake_telegram.calls_of("answerCallbackQuery")
    assert fake_telegram.sent_texts(tg_user.chat_id)[-1] == "Теперь я отвечаю по-русски."


def test_unsupported_locale_is_refused_in_words(feed, fake_telegram, tg_user):
    feed(tg_user.text("/locale de"))

    assert fake_telegram.sent_texts(tg_user.chat_id) == ["This language is not supported."]
    assert User.objects.get(telegram_id=tg_user.telegram_id).locale == "en"


def test_register_attaches_an_email_login(feed, fake_telegram, tg_user):
    feed(tg_user.text("/register Ann@Example.com"))

    user = User.objects.get(telegram_id=tg_user.telegram_id)
    assert user.email == "ann@example.com"
    assert not user.email_verified
    assert AuditEvent.objects.filter(action="user.email_attached", target_id=str(user.pk)).exists()
    assert "ann@example.com" in fake_telegram.sent_texts(tg_user.chat_id)[0]


def test_register_refuses_an_email_of_another_account(feed, fake_telegram, tg_user):
    UserFactory(email="taken@example.com")

    feed(tg_user.text("/register taken@example.com"))

    assert User.objects.get(telegram_id=tg_user.telegram_id).email is None
    assert "belongs to another account" in fake_telegram.sent_texts(tg_user.chat_id)[0]


@pytest.mark.parametrize("text", ["/register", "/register not-an-email"])
def test_register_without_a_valid_email_explains_the_format(feed, fake_telegram, tg_user, text):
    feed(tg_user.text(text))

    assert User.objects.get(telegram_id=tg_user.telegram_id).email is None
    assert "/register you@example.com" in fake_telegram.sent_texts(tg_user.chat_id)[0]


def test_messages_in_group_chats_are_ignored(feed, fake_telegram, tg_user):
    update = tg_user.text("/start")
    update["message"]["chat"] = {"id": -100123, "type": "group", "title": "Team"}

    feed(update)

    assert not User.objects.exists()
    assert fake_telegram.calls_of("sendMessage") == []


def test_worker_refuses_to_start_without_a_token(settings):
    settings.TELEGRAM_BOT_TOKEN = ""

    with pytest.raises(CommandError, match="TELEGRAM_BOT_TOKEN"):
        call_command("run_telegram_bot")


def test_set_webhook_registers_the_url_with_the_secret(fake_telegram):
    call_command("run_telegram_bot", set_webhook="https://bot.example.com/telegram/webhook/")

    [call] = fake_telegram.calls_of("setWebhook")
    assert call.params["url"] == "https://bot.example.com/telegram/webhook/"
    assert call.params["secret_token"] == WEBHOOK_SECRET
    assert "message" in call.params["allowed_updates"]


def test_set_webhook_refuses_without_a_secret(fake_telegram, settings):
    settings.TELEGRAM_WEBHOOK_SECRET = ""

    with pytest.raises(CommandError, match="TELEGRAM_WEBHOOK_SECRET"):
        call_command("run_telegram_bot", set_webhook="https://bot.example.com/telegram/webhook/")


def test_polling_worker_answers_updates_from_get_updates(fake_telegram, tg_user):
    async def run_until_answered():
        worker = asyncio.create_task(poll(handle_signals=False))
        fake_telegram.push_update(tg_user.text("/help"))
        deadline = asyncio.get_running_loop().time() + 10
        while not fake_telegram.sent_texts(tg_user.chat_id) and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        await get_dispatcher().stop_polling()
        await worker

    async_to_sync(run_until_answered)()

    assert fake_telegram.calls_of("deleteWebhook")
    assert fake_telegram.sent_texts(tg_user.chat_id)[0].startswith("Commands:")
    assert User.objects.filter(telegram_id=tg_user.telegram_id).exists()
