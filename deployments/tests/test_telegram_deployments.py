"""A customer's own Telegram bot: deployed through the API (token verified, encrypted, webhook set with
a secret of its own), then its clients chat with the agent through the webhook."""

import pytest
from django.test import Client

from agents.models import Conversation, MessageRole
from deployments.models import Contact, Deployment
from deployments.services import bot_token
from deployments.tests.conftest import SHOP_BOT_TOKEN, client_update
from tenants.models import AuditEvent
from usage.models import UsageEvent

pytestmark = pytest.mark.django_db(transaction=True)


def deploy_bot(tenant) -> Deployment:
    response = tenant.api.post(
        "/api/v1/deployments",
        {"agent": tenant.sales.pk, "channel": "telegram", "telegram_bot_token": SHOP_BOT_TOKEN},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return Deployment.objects.get(pk=response.json()["id"])


def post_update(deployment: Deployment, update: dict, secret: str | None = None):
    return Client().post(
        f"/telegram/deployments/{deployment.pk}/webhook",
        update,
        content_type="application/json",
        HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=deployment.webhook_secret if secret is None else secret,
    )


def test_deploying_a_bot_verifies_the_token_stores_it_encrypted_and_sets_a_webhook(tenant, fake_telegram):
    response = tenant.api.post(
        "/api/v1/deployments",
        {"agent": tenant.sales.pk, "channel": "telegram", "telegram_bot_token": SHOP_BOT_TOKEN},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert SHOP_BOT_TOKEN not in response.content.decode()
    assert body["bot_username"] == "shop_bot" and body["bot_token_set"] is True
    deployment = Deployment.objects.get(pk=body["id"])
    assert SHOP_BOT_TOKEN not in deployment.bot_token_encrypted and bot_token(deployment) == SHOP_BOT_TOKEN
    assert fake_telegram.calls_of("getMe", SHOP_BOT_TOKEN)
    (webhook,) = fake_telegram.calls_of("setWebhook", SHOP_BOT_TOKEN)
    assert webhook.params["url"].endswith(f"/telegram/deployments/{deployment.pk}/webhook")
    assert webhook.params["secret_token"] == deployment.webhook_secret
    assert SHOP_BOT_TOKEN not in tenant.api.get(f"/api/v1/deployments/{deployment.pk}").content.decode()
    assert AuditEvent.objects.filter(action="deployment.created", target_id=str(deployment.pk)).exists()


def test_a_token_telegram_does_not_know_is_a_400_naming_the_field(tenant, fake_telegram):
    response = tenant.api.post(
        "/api/v1/deployments",
        {"agent": tenant.sales.pk, "channel": "telegram", "telegram_bot_token": "5550002:UNKNOWN-token-abcdefghijklmn"},
        format="json",
    )

    assert response.status_code == 400
    assert "telegram_bot_token" in response.json()["fields"]
    assert not Deployment.objects.exists()


def test_a_plan_without_deployments_cannot_deploy(tenant, fake_telegram):
    account = tenant.owner.organization.billing_account
    account.plan = tenant.basic
    account.save()

    response = tenant.api.post(
        "/api/v1/deployments",
        {"agent": tenant.sales.pk, "channel": "widget", "allowed_origins": ["https://a.example"]},
        format="json",
    )

    assert response.status_code == 403
    assert response.json()["code"] == "feature_not_in_plan"
    assert [plan["code"] for plan in response.json()["upgrade_plans"]] == [tenant.plan.code]


def test_an_agent_outside_the_plan_cannot_be_deployed(tenant, fake_telegram):
    response = tenant.api.post(
        "/api/v1/deployments",
        {"agent": tenant.other_agent.pk, "channel": "widget", "allowed_origins": ["https://a.example"]},
        format="json",
    )

    assert response.status_code == 403
    assert response.json()["code"] == "agent_not_in_plan"


def test_a_client_message_is_answered_by_the_agent_as_the_organizations_call(tenant, fake_telegram, fake_openai):
    deployment = deploy_bot(tenant)

    assert post_update(deployment, client_update("Do you ship to Lisbon?")).status_code == 200

    texts = fake_telegram.sent_texts(chat_id=777_001, token=SHOP_BOT_TOKEN)
    assert texts and "Do you ship to Lisbon?" in texts[-1]
    contact = Contact.objects.get()
    assert (contact.organization_id, contact.channel, contact.external_id) == (
        tenant.owner.organization_id,
        "telegram",
        "777001",
    )
    assert contact.name == "Maria" and contact.handles == {"telegram": "@maria"}
    conversation = Conversation.objects.get(contact=contact)
    assert conversation.deployment_id == deployment.pk and conversation.organization_id == contact.organization_id
    assert list(conversation.messages.values_list("role", flat=True)) == [MessageRole.USER, MessageRole.ASSISTANT]
    event = UsageEvent.objects.get(outcome="ok")
    assert (event.organization_id, event.channel) == (tenant.owner.organization_id, "telegram")
    # The owner's own conversation list does not show the client's.
    assert tenant.api.get("/api/v1/conversations").json()["results"] == []


def test_the_next_message_continues_the_clients_conversation(tenant, fake_telegram, fake_openai):
    deployment = deploy_bot(tenant)
    post_update(deployment, client_update("First question"))
    post_update(deployment, client_update("Second question"))

    assert Conversation.objects.filter(contact__isnull=False).count() == 1
    sent = fake_openai.chat_requests[-1]["json"]["messages"]
    assert [m["content"] for m in sent if m["role"] == "user"] == ["First question", "Second question"]


def test_the_webhook_refuses_a_wrong_secret_and_another_deployments_secret(tenant, fake_telegram, fake_openai):
    deployment = deploy_bot(tenant)
    from deployments.tests.factories import DeploymentFactory

    other = DeploymentFactory(telegram=True, organization=tenant.stranger.organization, agent=tenant.sales)

    assert post_update(deployment, client_update("hi"), secret="wrong").status_code == 403
    assert post_update(deployment, client_update("hi"), secret=other.webhook_secret).status_code == 403
    assert not fake_openai.chat_requests and not Contact.objects.exists()


def test_a_redelivered_update_is_answered_once(tenant, fake_telegram, fake_openai):
    deployment = deploy_bot(tenant)
    update = client_update("Only once please")

    post_update(deployment, update)
    post_update(deployment, update)

    assert len(fake_openai.chat_requests) == 1


def test_a_paused_deployment_tells_the_client_politely_and_calls_nobody(tenant, fake_telegram, fake_openai):
    deployment = deploy_bot(tenant)
    assert (
        tenant.api.patch(f"/api/v1/deployments/{deployment.pk}", {"status": "paused"}, format="json").status_code == 200
    )

    post_update(deployment, client_update("Anyone there?"))

    assert not fake_openai.chat_requests
    assert fake_telegram.sent_texts(chat_id=777_001, token=SHOP_BOT_TOKEN) == [
        "Sorry, I cannot answer right now. Please try again later."
    ]


def test_deleting_a_deployment_disconnects_the_bot(tenant, fake_telegram):
    deployment = deploy_bot(tenant)

    assert tenant.api.delete(f"/api/v1/deployments/{deployment.pk}").status_code == 204

    assert fake_telegram.calls_of("deleteWebhook", SHOP_BOT_TOKEN)
    assert not Deployment.objects.exists()
    assert AuditEvent.objects.filter(action="deployment.deleted").exists()


def test_a_used_up_quota_stops_the_clients_politely_and_tells_the_owner_once(tenant, fake_telegram, fake_openai):
    tenant.plan.quota_requests = 1
    tenant.plan.save()
    deployment = deploy_bot(tenant)

    post_update(deployment, client_update("First question"))
    post_update(deployment, client_update("Second question"))
    post_update(deployment, client_update("Third question", user_id=777_002))

    assert len(fake_openai.chat_requests) == 1
    assert fake_telegram.sent_texts(chat_id=777_002, token=SHOP_BOT_TOKEN) == [
        "Sorry, I cannot answer right now. Please try again later."
    ]
    # The owner linked Telegram and reads Russian: one notice through the platform bot, not per client
    # (besides the quota's own notice, also sent once).
    quota, notice = fake_telegram.sent_texts(chat_id=tenant.owner.telegram_id, token=fake_telegram.token)
    assert quota.startswith("Квота запросов исчерпана")
    assert "не может отвечать вашим клиентам" in notice and "@shop_bot" in notice
    assert UsageEvent.objects.filter(outcome="denied", error_code="quota_exceeded", channel="telegram").count() == 2
