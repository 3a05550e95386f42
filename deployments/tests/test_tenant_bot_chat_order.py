"""A customer's bot answers one chat's messages one after the other even when two app servers get them
at once (the shared per-chat lock: Redis, PostgreSQL without it or while Redis is down); two chats are
still answered concurrently, and a chat with the customer's bot does not wait for the platform bot."""

import asyncio
import os
import threading
import time

import pytest
from asgiref.sync import async_to_sync
from django.db import connections

from channels_tg.chat_lock import chat_turn
from deployments.tests.conftest import SHOP_BOT_TOKEN, client_update
from deployments.tests.test_telegram_deployments import deploy_bot, post_update

pytestmark = pytest.mark.django_db(transaction=True)


def deliver_at_once(deployment, *deliveries: tuple[dict, threading.Event | None]) -> None:
    """POST each update to the bot's webhook from its own thread ("server"), each once its event is set."""

    def post(update, ready):
        if ready is not None:
            assert ready.wait(timeout=15)
        statuses.append(post_update(deployment, update).status_code)
        connections.close_all()

    statuses: list[int] = []
    threads = [threading.Thread(target=post, args=delivery) for delivery in deliveries]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert statuses == [200] * len(deliveries)


def once_asking(fake_openai) -> threading.Event:
    """Set as soon as the upstream got a first request (the first answer is being written)."""
    asking = threading.Event()

    def watch():
        deadline = time.monotonic() + 15
        while not fake_openai.chat_requests and time.monotonic() < deadline:
            time.sleep(0.02)
        asking.set()

    threading.Thread(target=watch).start()
    return asking


def answered_words(fake_telegram) -> list[str]:
    """The first word after "echo:" of each text the customer's bot sent or edited, in the order sent."""
    texts = [call.params.get("text", "") for call in list(fake_telegram.calls) if call.token == SHOP_BOT_TOKEN]
    return [text.split()[1] for text in texts if text.startswith("echo: ")]


def test_one_chats_messages_on_two_servers_are_answered_in_order(lock_backend, tenant, fake_telegram, fake_openai):
    deployment = deploy_bot(tenant)

    deliver_at_once(
        deployment,
        (client_update("first TOKEN_DELAY_MS=250 one two three"), None),
        (client_update("second"), once_asking(fake_openai)),
    )

    answered = answered_words(fake_telegram)
    assert set(answered) == {"first", "second"}
    assert answered == sorted(answered, key=["first", "second"].index)
    # The second question was asked with the first exchange, answered in full, as its history.
    last = fake_openai.chat_requests[-1]["json"]["messages"]
    assert [m["content"].split()[0] for m in last if m["role"] == "user"] == ["first", "second"]
    assert any(m["role"] == "assistant" and m["content"].endswith("three") for m in last)


def test_two_chats_of_one_bot_are_answered_concurrently(lock_backend, tenant, fake_telegram, fake_openai):
    deployment = deploy_bot(tenant)

    deliver_at_once(
        deployment,
        (client_update("mine TOKEN_DELAY_MS=250 one two three four five", user_id=777_001), None),
        (client_update("yours TOKEN_DELAY_MS=250 one two three four five", user_id=777_002), None),
    )

    # Each answer is sent, then edited as it grows: concurrent answers interleave, serialized ones do not.
    answered = answered_words(fake_telegram)
    assert set(answered) == {"mine", "yours"}
    assert answered != sorted(answered) and answered != sorted(answered, reverse=True)


@pytest.mark.parametrize("redis_url", ["", os.environ.get("REDIS_URL", "")], ids=["postgresql", "redis"])
def test_a_customer_bots_chat_is_locked_apart_from_the_platform_bots_same_chat(settings, redis_url):
    settings.REDIS_URL = redis_url

    async def both_at_once() -> bool:
        async with chat_turn(777_001):

            async def customer_turn():
                async with chat_turn(777_001, scope="deployment:1"):
                    return True

            return await asyncio.wait_for(customer_turn(), timeout=5)

    assert async_to_sync(both_at_once)()
