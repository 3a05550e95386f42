import pytest

from channels_tg.tests.conftest import TelegramUser

pytestmark = pytest.mark.django_db(transaction=True)


def test_flood_control_429_is_retried_and_the_message_still_arrives(feed, fake_telegram, tg_user):
    fake_telegram.fail("sendMessage", status=429, retry_after=1, times=2)

    feed(tg_user.text("/help"))

    attempts = fake_telegram.calls_of("sendMessage")
    assert len(attempts) == 3
    assert attempts[2].started - attempts[1].started >= 1
    assert attempts[0].params["text"] == attempts[2].params["text"]


def test_server_errors_are_retried_with_backoff(feed, fake_telegram, tg_user):
    fake_telegram.fail("sendMessage", status=502, times=2)

    feed(tg_user.text("/help"))

    assert len(fake_telegram.calls_of("sendMessage")) == 3


def test_a_user_who_blocked_the_bot_is_not_retried_and_the_worker_goes_on(feed, fake_telegram, tg_user):

    other = TelegramUser(telegram_id=7_000_002, first_name="Bob")
    fake_telegram.fail("sendMessage", status=403, times=1)

    feed(tg_user.text("/help"))
    feed(other.text("/help"))

    assert len(fake_telegram.calls_of("sendMessage")) == 2
    assert fake_telegram.sent_texts(tg_user.chat_id) == [fake_telegram.sent_texts(other.chat_id)[0]]


def test_a_failing_update_gets_an_apology_and_the_next_update_is_served(feed, fake_telegram, tg_user):
    fake_telegram.fail("sendMessage", status=400, times=1)

    feed(tg_user.text("/help"))
    feed(tg_user.text("/help"))

    help_text, apology, help_again = fake_telegram.sent_texts(tg_user.chat_id)
    assert "Sorry" in apology
    assert help_again == help_text


def test_messages_of_one_chat_are_answered_one_at_a_time(feed, fake_telegram, tg_user):
    fake_telegram.slow_down("sendMessage", 0.3)

    feed(tg_user.text("/help"), tg_user.text("/new"))

    first, second = sorted(fake_telegram.calls_of("sendMessage"), key=lambda call: call.started)
    assert second.started >= first.finished


def test_different_chats_are_answered_in_parallel(feed, fake_telegram, tg_user):

    other = TelegramUser(telegram_id=7_000_003, first_name="Bob")
    fake_telegram.slow_down("sendMessage", 0.5)

    feed(tg_user.text("/help"), other.text("/help"))

    first, second = sorted(fake_telegram.calls_of("sendMessage"), key=lambda call: call.started)
    assert second.started < first.finished


def test_the_apology_is_in_the_users_language(feed, fake_telegram, tg_user):
    tg_user.language_code = "ru"
    fake_telegram.fail("sendMessage", status=400, times=1)

    feed(tg_user.text("/help"))

    assert fake_telegram.sent_texts(tg_user.chat_id)[-1] == "Извините, у нас что-то пошло не так. Попробуйте ещё раз."
