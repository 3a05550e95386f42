"""A deployment's clients reach its agent and nothing else of the organization: the platform bot's
commands are only words to the agent, no account is made for them, and a widget's visitor token opens
no API."""

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from agents.models import Conversation
from billing.models import Payment
from channels_tg.models import TelegramChat
from deployments.tests.conftest import SHOP_BOT_TOKEN, client_update
from deployments.tests.factories import DeploymentFactory
from deployments.tests.test_telegram_deployments import deploy_bot, post_update
from deployments.widget import new_visitor_token

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_platform_bots_commands_are_only_words_to_the_deployments_agent(tenant, fake_telegram, fake_openai):
    deployment = deploy_bot(tenant)

    for command in ("/agents", "/subscribe monthly", "/billing", "/start"):
        assert post_update(deployment, client_update(command)).status_code == 200

    answers = fake_telegram.sent_texts(chat_id=777_001, token=SHOP_BOT_TOKEN)
    assert [answer.split("\n")[0] for answer in answers[:3]] == [
        "echo: /agents",
        "echo: /subscribe monthly",
        "echo: /billing",
    ]
    assert answers[3] == f"Hello! I am {tenant.sales.name}. How can I help you?"
    assert tenant.other_agent.name not in "".join(answers)
    # Nothing went out through the platform's bot, and the client got no account, chat, plan or payment.
    assert not fake_telegram.calls_of("sendMessage", fake_telegram.token)
    assert not User.objects.filter(telegram_id=777_001).exists() and not TelegramChat.objects.exists()
    assert not Payment.objects.exists()
    assert set(Conversation.objects.filter(contact__isnull=False).values_list("agent_id", flat=True)) == {
        tenant.sales.pk
    }


def test_a_visitor_token_opens_no_api(tenant):
    widget = DeploymentFactory(organization=tenant.owner.organization, agent=tenant.sales)
    token, _ = new_visitor_token(deployment=widget)
    api = APIClient()

    for scheme in ("Bearer", "Api-Key"):
        api.credentials(HTTP_AUTHORIZATION=f"{scheme} {token}")
        for path in ("/api/v1/billing/account", "/api/v1/agents", "/api/v1/leads", "/api/v1/contacts"):
            assert api.get(path).status_code == 401, (scheme, path)
