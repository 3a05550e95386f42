"""A customer organization on a plan with deployments, its agent on the fake OpenAI upstream, and the
fake Bot API serving both the platform's bot and the customer's own."""

import itertools
from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from testing.fakes.telegram_api import BOT_ID, FakeTelegramAPI

PLATFORM_BOT_TOKEN = f"{BOT_ID}:TEST-token-for-the-fake-bot-api"
SHOP_BOT_TOKEN = "5550001:SHOP-bot-token-of-the-customer-abcdef"
CHANNELS = ["web", "telegram", "api", "widget"]


@pytest.fixture
def fake_telegram(settings):
    server = FakeTelegramAPI(token=PLATFORM_BOT_TOKEN).start()
    server.add_bot(SHOP_BOT_TOKEN, username="shop_bot")
    settings.TELEGRAM_BOT_TOKEN = PLATFORM_BOT_TOKEN
    settings.TELEGRAM_API_SERVER = server.base_url
    yield server
    server.stop()


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    client.user = user
    return client


@pytest.fixture
def tenant(db, fake_openai, settings):
    """An owner (Telegram linked, Russian) of an organization on a plan with `Deployments`, a Sales agent in
    the plan answering through the fake upstream, and a second organization on the same plan."""
    from accounts.tests.factories import UserFactory
    from agents.tests.factories import AgentFactory, LLMProviderFactory
    from billing.tests.factories import PlanFactory
    from policy.tests.factories import BillingAccountFactory

    settings.TELEGRAM_EDIT_INTERVAL_SECONDS = 0.05
    provider = LLMProviderFactory(openai=True, base_url=fake_openai.base_url, api_key="sk-test")
    sales = AgentFactory(name="Sales Bot", with_prompt=True, active_prompt__provider=provider)
    other_agent = AgentFactory(name="Lawyer", with_prompt=True, active_prompt__provider=provider)
    plan = PlanFactory(channels=CHANNELS, features=["API access", "Deployments"], agents=[sales])
    basic = PlanFactory(channels=CHANNELS, features=["API access"], agents=[sales])
    owner = UserFactory(telegram_id=9_100_001, locale="ru")
    BillingAccountFactory(organization=owner.organization, plan=plan)
    stranger = UserFactory()
    BillingAccountFactory(organization=stranger.organization, plan=plan)
    return SimpleNamespace(
        owner=owner,
        api=client_for(owner),
        sales=sales,
        other_agent=other_agent,
        plan=plan,
        basic=basic,
        stranger=stranger,
        stranger_api=client_for(stranger),
    )


_update_ids = itertools.count(1)


def client_update(text: str, *, user_id: int = 777_001, first_name: str = "Maria", username: str = "maria") -> dict:
    """The update Telegram posts to the customer's bot when a client writes `text`."""
    update_id = next(_update_ids)
    entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}] if text.startswith("/") else []
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_700_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": first_name},
            "from": {
                "id": user_id,
                "is_bot": False,
                "first_name": first_name,
                "username": username,
                "language_code": "en",
            },
            "text": text,
            "entities": entities,
        },
    }
