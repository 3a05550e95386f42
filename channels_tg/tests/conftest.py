import asyncio
import itertools
from types import SimpleNamespace

import pytest
from aiogram.types import Update
from asgiref.sync import async_to_sync

from channels_tg.bot import build_bot, build_dispatcher
from testing.fakes.telegram_api import BOT_ID, FakeTelegramAPI

BOT_TOKEN = f"{BOT_ID}:TEST-token-for-the-fake-bot-api"
WEBHOOK_SECRET = "webhook-secret-for-tests"


@pytest.fixture
def fake_telegram(settings):
    """A fake Bot API on 127.0.0.1 with the bot settings pointing at it."""
    server = FakeTelegramAPI(token=BOT_TOKEN).start()
    settings.TELEGRAM_BOT_TOKEN = BOT_TOKEN
    settings.TELEGRAM_API_SERVER = server.base_url
    settings.TELEGRAM_WEBHOOK_SECRET = WEBHOOK_SECRET
    yield server
    server.stop()


class TelegramUser:
    """A person writing to the bot: builds the updates Telegram would send for them."""

    _ids = itertools.count(1)

    def __init__(self, telegram_id: int, first_name: str = "Ann", language_code: str = "en"):
        self.telegram_id = telegram_id
        self.first_name = first_name
        self.language_code = language_code

    @property
    def chat_id(self) -> int:
        return self.telegram_id

    def _sender(self) -> dict:
        return {
            "id": self.telegram_id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": self.language_code,
        }

    def _message(self, **content) -> dict:
        update_id = next(self._ids)
        return {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 1_700_000_000,
                "chat": {"id": self.chat_id, "type": "private", "first_name": self.first_name},
                "from": self._sender(),
                **content,
            },
        }

    def text(self, text: str) -> dict:
        entities = []
        if text.startswith("/"):
            entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return self._message(text=text, entities=entities)

    def voice(self, file_id: str, duration: int) -> dict:
        return self._message(voice={"file_id": file_id, "file_unique_id": f"u-{file_id}", "duration": duration})

    def press(self, data: str) -> dict:
        update_id = next(self._ids)
        return {
            "update_id": update_id,
            "callback_query": {
                "id": str(update_id),
                "from": self._sender(),
                "chat_instance": "ci",
                "data": data,
                "message": {
                    "message_id": 1,
                    "date": 1_700_000_000,
                    "chat": {"id": self.chat_id, "type": "private"},
                    "text": "buttons",
                },
            },
        }


@pytest.fixture
def tg_user():
    return TelegramUser(telegram_id=7_000_001)


@pytest.fixture
def feed(fake_telegram):
    """Feed updates (dicts) to one dispatcher, as the polling worker would; several at once run concurrently."""
    dispatcher = build_dispatcher()

    async def run(updates):
        bot = build_bot()
        try:
            await asyncio.gather(
                *(dispatcher.feed_update(bot, Update.model_validate(u, context={"bot": bot})) for u in updates)
            )
        finally:
            await bot.session.close()

    def feed_updates(*updates: dict) -> None:
        async_to_sync(run)(updates)

    return feed_updates


@pytest.fixture
def catalog(db, settings, fake_openai):
    """Three agents answering through the fake OpenAI upstream (which honours max_tokens, so their
    versions allow long answers); the trial plan has two of them, a premium plan all three."""
    from agents.tests.factories import AgentFactory, LLMProviderFactory
    from billing.tests.factories import PlanFactory

    provider = LLMProviderFactory(openai=True, base_url=fake_openai.base_url, api_key="sk-test")

    def agent(name):
        return AgentFactory(
            name=name, with_prompt=True, active_prompt__provider=provider, active_prompt__max_tokens=4096
        )

    writer, coder, lawyer = agent("Writer"), agent("Coder"), agent("Lawyer")
    trial = PlanFactory(code=settings.TRIAL_PLAN, name="Monthly", trial_days=14, agents=[writer, coder])
    premium = PlanFactory(code="premium", name="Premium", agents=[writer, coder, lawyer])
    return SimpleNamespace(writer=writer, coder=coder, lawyer=lawyer, trial=trial, premium=premium)


@pytest.fixture
def talking(feed, catalog, tg_user, fake_telegram):
    """The user has started the bot (trial) and chosen the Writer."""
    feed(tg_user.text("/start"))
    feed(tg_user.press(f"agent:{catalog.writer.pk}"))
    fake_telegram.clear()
    return tg_user
