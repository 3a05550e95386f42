import pytest

from accounts.tests.factories import UserFactory
from billing.tests.account_factories import BillingAccountFactory, make_plan
from tenants.models import Role
from testing.fakes.telegram_api import BOT_ID, FakeTelegramAPI

BOT_TOKEN = f"{BOT_ID}:TEST-token-for-notifications"


@pytest.fixture
def bot_api(settings):
    """The platform bot's Bot API (the fake), so linked users get their notices by Telegram."""
    server = FakeTelegramAPI(token=BOT_TOKEN).start()
    settings.TELEGRAM_BOT_TOKEN = BOT_TOKEN
    settings.TELEGRAM_API_SERVER = server.base_url
    yield server
    server.stop()


@pytest.fixture
def plan(db):
    plan = make_plan("monthly", prices={"USD": "19.99", "RUB": "990.00"}, order=3)
    plan.name_ru = "Месячный"
    plan.quota_requests = 10
    plan.save()
    return plan


@pytest.fixture
def account(plan):
    return BillingAccountFactory(plan=plan)


@pytest.fixture
def owner(account):
    return UserFactory(organization=account.organization, role=Role.OWNER)


@pytest.fixture
def admin(account):
    return UserFactory(organization=account.organization, role=Role.ADMIN, locale="ru", telegram_id=555000222)


@pytest.fixture
def member(account):
    return UserFactory(organization=account.organization, role=Role.MEMBER)
