"""Issue 20 item 6: one chat's messages are answered in order even when two app servers get them at once.

Each thread below stands for an app server: the webhook runs in its own event loop there, so the
in-process lock does not order them; only the shared lock (Redis, or PostgreSQL without it) does.
"""

import threading
import time

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse

from channels_tg.tests.conftest import WEBHOOK_SECRET, TelegramUser

pytestmark = pytest.mark.django_db(transaction=True)


def deliver_at_once(*deliveries: tuple[dict, threading.Event | None]) -> None:
    """POST each update to the webhook from its own thread ("server"), each once its event (if any) is set."""

    def post(update, ready):
        if ready is not None:
            assert ready.wait(timeout=15)
        response = Client().post(
            reverse("channels_tg:webhook"),
            update,
            content_type="application/json",
            headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
        )
        statuses.append(response.status_code)
        connections.close_all()

    statuses: list[int] = []
    threads = [threading.Thread(target=post, args=delivery) for delivery in deliveries]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert statuses == [200] * len(deliveries)


def test_one_chats_messages_on_two_servers_are_answered_in_order(lock_backend, talking, fake_openai, fake_telegram):
    slow_first = talking.text("first TOKEN_DELAY_MS=250 one two three")
    quick_second = talking.text("second")
    first_is_asking = threading.Event()

    def watch():
        deadline = time.monotonic() + 15
        while not fake_openai.chat_requests and time.monotonic() < deadline:
            time.sleep(0.02)
        first_is_asking.set()

    threading.Thread(target=watch).start()
    deliver_at_once((slow_first, None), (quick_second, first_is_asking))

    # Sent and edited texts in the order the Bot API got them (a progressive answer is sent, then edited).
    texts = [call.params.get("text", "") for call in list(fake_telegram.calls)]
    answered = [text.split()[1] for text in texts if text.startswith("echo: ")]
    assert answered == sorted(answered, key=["first", "second"].index)
    assert set(answered) == {"first", "second"}


def test_two_chats_on_two_servers_are_answered_concurrently(lock_backend, talking, feed, catalog, fake_telegram):
    other = TelegramUser(telegram_id=7_000_002, first_name="Bob")
    feed(other.text("/start"))
    feed(other.press(f"agent:{catalog.writer.pk}"))

    deliver_at_once(
        (talking.text("mine TOKEN_DELAY_MS=250 one two three four five"), None),
        (other.text("yours TOKEN_DELAY_MS=250 one two three four five"), None),
    )

    # Each answer is sent, then edited as it grows: concurrent answers interleave, serialized ones do not.
    texts = [call.params.get("text", "") for call in list(fake_telegram.calls)]
    answered = [text.split()[1] for text in texts if text.startswith("echo: ")]
    assert set(answered) == {"mine", "yours"}
    assert answered != sorted(answered) and answered != sorted(answered, reverse=True)
