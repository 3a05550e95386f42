import pytest

from accounts.models import AuthProvider, User
from channels_tg.models import TelegramChat
from tenants.models import Organization

pytestmark = pytest.mark.django_db(transaction=True)


def test_first_start_creates_one_telegram_account_with_its_organization(feed, fake_telegram, tg_user):
    feed(tg_user.text("/start"))

    user = User.objects.get(telegram_id=tg_user.telegram_id)
    assert user.auth_provider == AuthProvider.TELEGRAM
    assert user.email is None
    assert user.organization.members.get() == user
    assert TelegramChat.objects.get(chat_id=tg_user.chat_id).user == user
    [greeting] = fake_telegram.sent_texts(tg_user.chat_id)
    assert "Ann" in greeting and "/agents" in greeting


def test_second_start_reuses_the_account(feed, tg_user):
    feed(tg_user.text("/start"))
    feed(tg_user.text("/start"))

    assert User.objects.filter(telegram_id=tg_user.telegram_id).count() == 1
    assert Organization.objects.count() == 1
    assert TelegramChat.objects.count() == 1


def test_simultaneous_first_messages_create_one_account(feed, tg_user):
    feed(tg_user.text("/start"), tg_user.text("/help"))

    assert User.objects.filter(telegram_id=tg_user.telegram_id).count() == 1
    assert Organization.objects.count() == 1


def test_russian_telegram_client_gets_a_russian_account(feed, fake_telegram, tg_user):
    tg_user.language_code = "ru"

    feed(tg_user.text("/start"))

    assert User.objects.get(telegram_id=tg_user.telegram_id).locale == "ru"
    [greeting] = fake_telegram.sent_texts(tg_user.chat_id)
    assert "Привет" in greeting


def test_replies_are_plain_text(feed, fake_telegram, tg_user):
    feed(tg_user.text("/help"))

    [call] = fake_telegram.calls_of("sendMessage")
    assert "parse_mode" not in call.params


def test_an_update_from_a_known_user_costs_one_query_before_its_handler(feed, tg_user, django_assert_max_num_queries):
    feed(tg_user.text("/start"))

    with django_assert_max_num_queries(1):
        feed(tg_user.text("/help"))
