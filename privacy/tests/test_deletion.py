"""Deleting an organization: a confirmation, a grace period in which members are refused and the owner
may restore it, then the erasure of personal data with payments kept and the organization anonymized."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from agents.models import Conversation, Message
from billing.models import AccountStatus, BillingAccount, Invoice, Payment, PlanAgent
from botgeneric.channels import Channel
from botgeneric.errors import DomainError
from deployments.models import Contact, Deployment
from deployments.services import encrypt_bot_token
from deployments.tests.factories import DeploymentFactory
from leads.models import Lead
from notifications.models import Notification
from policy.errors import DenyCode, PolicyDenied
from policy.services import check_access
from privacy import tasks
from privacy.deletion import erase_organization, restore_organization, schedule_deletion
from privacy.errors import PrivacyErrorCode
from privacy.models import OrganizationExport
from privacy.services import export_storage, request_export
from tenants.models import ApiKey, AuditEvent, Invitation, Organization
from tenants.services import create_api_key, hash_secret
from testing.fakes.telegram_api import BOT_ID, FakeTelegramAPI
from usage.models import UsageEvent
from webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db

SHOP_BOT = "5550002:SHOP-bot-token-of-an-erased-organization"


def _agent(tenant):
    agent = tenant.conversation.agent
    account = BillingAccount.objects.get(organization=tenant.organization)
    PlanAgent.objects.get_or_create(plan=account.plan, agent=agent)
    return agent


def _delete(tenant, committed, confirm=None):
    with committed(execute=True):
        return tenant.client(tenant.owner).post(
            "/api/v1/organization/delete", {"confirm": confirm or tenant.organization.name}, format="json"
        )


def test_members_are_refused_by_the_policy_once_the_owner_schedules_the_deletion(tenant, committed):
    agent = _agent(tenant)
    check_access(user=tenant.member, agent=agent, channel=Channel.WEB)

    response = _delete(tenant, committed)

    assert response.status_code == 202
    due = Organization.objects.get(pk=tenant.organization.pk).deletion_due_at
    assert timedelta(days=13, hours=23) < due - timezone.now() <= timedelta(days=14)
    with pytest.raises(PolicyDenied) as denied:
        check_access(user=tenant.member, agent=agent, channel=Channel.WEB)
    assert denied.value.code == DenyCode.ORGANIZATION_PENDING_DELETION
    assert denied.value.http_status == 403
    assert tenant.client(tenant.member).get("/api/v1/agents").json()["results"] == []
    assert BillingAccount.objects.get(organization=tenant.organization).cancel_at_period_end
    assert AuditEvent.objects.filter(action="organization.deletion_scheduled").count() == 1


def test_the_deletion_needs_the_organizations_name(tenant, committed):
    response = _delete(tenant, committed, confirm="not the name")

    assert response.status_code == 400
    assert "confirm" in response.json()["fields"]
    assert Organization.objects.get(pk=tenant.organization.pk).deletion_due_at is None


@pytest.mark.parametrize("role", ["admin", "member"])
def test_only_the_owner_may_delete_or_restore(tenant, role):
    client = tenant.client(getattr(tenant, role))

    deleted = client.post("/api/v1/organization/delete", {"confirm": tenant.organization.name}, format="json")
    restored = client.post("/api/v1/organization/restore")

    assert (deleted.status_code, deleted.json()["code"]) == (403, "forbidden_role")
    assert (restored.status_code, restored.json()["code"]) == (403, "forbidden_role")
    assert Organization.objects.get(pk=tenant.organization.pk).deletion_due_at is None


def test_an_api_key_cannot_delete_the_organization(tenant):
    _, secret = create_api_key(organization=tenant.organization, name="k", actor=tenant.owner)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")

    response = client.post("/api/v1/organization/delete", {"confirm": tenant.organization.name}, format="json")

    assert (response.status_code, response.json()["code"]) == (403, "insufficient_scope")


def test_the_owner_restores_within_the_grace_period_and_members_work_again(tenant, committed):
    agent = _agent(tenant)
    _delete(tenant, committed)

    with committed(execute=True):
        response = tenant.client(tenant.owner).post("/api/v1/organization/restore")

    assert response.status_code == 200
    assert response.json()["deletion_due_at"] is None
    check_access(user=tenant.member, agent=agent, channel=Channel.WEB)
    assert tenant.client(tenant.owner).post("/api/v1/organization/restore").json()["code"] == "not_pending_deletion"
    assert _delete(tenant, committed, confirm=tenant.organization.name).status_code == 202
    assert _delete(tenant, committed).json()["code"] == "already_pending_deletion"


def test_after_the_grace_period_personal_data_is_erased_and_payments_are_kept_anonymized(
    tenant, other_tenant, committed
):
    _, secret = create_api_key(organization=tenant.organization, name="k", actor=tenant.owner)
    Invitation.objects.create(
        organization=tenant.organization,
        email="invitee@example.com",
        token_hash=hash_secret("invitation"),
        expires_at=timezone.now() + timedelta(days=7),
    )
    _delete(tenant, committed)
    due = Organization.objects.get(pk=tenant.organization.pk).deletion_due_at
    with committed(execute=True):
        export = request_export(user=tenant.owner)  # the owner may still take a copy meanwhile
    stored = OrganizationExport.objects.get(pk=export.pk).file
    assert export_storage().exists(stored)

    assert not erase_organization(organization_id=tenant.organization.pk, now=due - timedelta(minutes=1))
    with pytest.raises(DomainError) as refused:
        restore_organization(user=tenant.owner, now=due + timedelta(seconds=1))
    assert refused.value.code == PrivacyErrorCode.NOT_PENDING_DELETION
    with committed(execute=True):
        assert erase_organization(organization_id=tenant.organization.pk, now=due + timedelta(minutes=1))

    org_id = tenant.organization.pk
    organization = Organization.objects.get(pk=org_id)
    assert organization.name == f"Deleted organization {org_id}"
    assert organization.erased_at is not None
    for model, scope in (
        (Conversation, {"organization_id": org_id}),
        (Message, {"conversation__organization_id": org_id}),
        (Contact, {"organization_id": org_id}),
        (Lead, {"organization_id": org_id}),
        (Deployment, {"organization_id": org_id}),
        (ApiKey, {"organization_id": org_id}),
        (WebhookEndpoint, {"organization_id": org_id}),
        (Invitation, {"organization_id": org_id}),
    ):
        assert not model.objects.filter(**scope).exists(), model
    members = User.objects.filter(pk__in=[tenant.owner.pk, tenant.admin.pk, tenant.member.pk])
    assert {(user.email, user.name, user.is_active, user.has_usable_password()) for user in members} == {
        (None, "", False, False)
    }
    payment = Payment.objects.get(pk=tenant.payment.pk)
    assert payment.amount == tenant.payment.amount
    assert "alpha" not in str(payment.raw)
    invoice = Invoice.objects.get(payment=payment)
    assert (invoice.customer_name, invoice.amount) == (organization.name, payment.amount)
    assert not Notification.objects.filter(organization_id=org_id).exists()
    assert BillingAccount.objects.get(organization_id=org_id).status == AccountStatus.CANCELED
    assert UsageEvent.objects.filter(organization_id=org_id).exists()  # counts, no personal data
    audit = AuditEvent.objects.filter(organization_id=org_id)
    assert audit.filter(action="organization.erased").exists()
    assert not audit.filter(action="test.marked").exists()
    assert "alpha" not in str(list(audit.values("actor_label", "before", "after")))
    assert APIClient(HTTP_AUTHORIZATION=f"Api-Key {secret}").get("/api/v1/agents").status_code == 401
    assert not erase_organization(organization_id=org_id, now=due + timedelta(days=1))  # once only
    assert not export_storage().exists(stored)
    assert not OrganizationExport.objects.filter(organization_id=org_id).exists()
    assert Conversation.objects.filter(organization=other_tenant.organization).count() == 2
    assert User.objects.get(pk=other_tenant.owner.pk).email == other_tenant.owner.email


def test_the_tick_erases_organizations_whose_grace_period_is_over(tenant, other_tenant, committed):
    schedule_deletion(user=tenant.owner, confirm=tenant.organization.name)
    Organization.objects.filter(pk=tenant.organization.pk).update(deletion_due_at=timezone.now() - timedelta(minutes=1))

    with committed(execute=True):
        result = tasks.tick()

    assert result["organizations_due"] == 1
    assert Organization.objects.get(pk=tenant.organization.pk).erased_at is not None
    assert Organization.objects.get(pk=other_tenant.organization.pk).erased_at is None


def test_the_owner_deletes_and_restores_on_the_dashboard(tenant, committed):
    browser = Client()
    browser.force_login(tenant.owner)

    refused = browser.post("/organization/delete/", {"confirm": "wrong"})
    with committed(execute=True):
        browser.post("/organization/delete/", {"confirm": tenant.organization.name})
    page = browser.get("/organization/data/")

    assert refused.status_code == 400
    assert b'id="deletion-pending"' in page.content
    browser.post("/organization/restore/")
    assert Organization.objects.get(pk=tenant.organization.pk).deletion_due_at is None
    member = Client()
    member.force_login(tenant.member)
    assert member.get("/organization/delete/").status_code == 403
    with committed(execute=True):
        browser.post("/organization/delete/", {"confirm": tenant.organization.name})
    assert b"scheduled for deletion" in member.get("/dashboard/").content


@pytest.fixture
def fake_telegram(settings):
    server = FakeTelegramAPI(token=f"{BOT_ID}:platform-token-for-the-fake").start()
    server.add_bot(SHOP_BOT, username="shop_bot")
    settings.TELEGRAM_API_SERVER = server.base_url
    yield server
    server.stop()


def test_erasing_disconnects_the_organizations_telegram_bots(tenant, committed, fake_telegram):
    DeploymentFactory(organization=tenant.organization, telegram=True, bot_token_encrypted=encrypt_bot_token(SHOP_BOT))
    schedule_deletion(user=tenant.owner, confirm=tenant.organization.name)
    due = Organization.objects.get(pk=tenant.organization.pk).deletion_due_at

    with committed(execute=True):
        erase_organization(organization_id=tenant.organization.pk, now=due + timedelta(minutes=1))

    assert fake_telegram.calls_of("deleteWebhook", SHOP_BOT)


def test_an_api_call_to_an_agent_during_the_grace_period_names_the_pending_deletion(tenant, committed, fake_openai):
    agent = _agent(tenant)
    _delete(tenant, committed)

    response = tenant.client(tenant.member).post(f"/api/v1/agents/{agent.pk}/invoke", {"input": "hi"}, format="json")

    assert (response.status_code, response.json()["code"]) == (403, "organization_pending_deletion")


def test_an_openai_client_during_the_grace_period_is_told_of_the_pending_deletion(tenant, committed, fake_openai):
    agent = _agent(tenant)
    _, secret = create_api_key(organization=tenant.organization, name="client", actor=tenant.owner)
    _delete(tenant, committed)

    response = APIClient().post(
        "/api/v1/openai/chat/completions",
        {"model": agent.slug, "messages": [{"role": "user", "content": "hi"}]},
        format="json",
        headers={"Authorization": f"Bearer {secret}"},
    )

    assert response.status_code == 403, response.json()
    assert response.json()["error"]["code"] == "organization_pending_deletion"
