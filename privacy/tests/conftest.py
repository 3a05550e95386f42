"""A tenant with a row in every section of an export, made through the models (the services that make
them in production are tested in their own apps)."""

from dataclasses import dataclass
from decimal import Decimal

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from accounts.tests.factories import UserFactory
from agents.models import Conversation, Message, MessageRole
from billing.models import Payment, PaymentProvider, PaymentStatus
from billing.services.invoices import issue_invoice
from botgeneric.channels import Channel
from deployments.models import Contact
from deployments.tests.factories import ContactFactory, DeploymentFactory
from leads.models import Lead
from notifications.models import Kind, Notification
from policy.tests.factories import BillingAccountFactory
from tenants.models import Organization, Role
from tenants.services import record_audit
from usage.models import Outcome, UsageEvent
from webhooks.models import WebhookEndpoint


@dataclass
class Tenant:
    organization: Organization
    owner: User
    admin: User
    member: User
    conversation: Conversation
    client_conversation: Conversation
    contact: Contact
    lead: Lead
    payment: Payment
    marker: str

    def client(self, user: User) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
        return client


def make_tenant(marker: str) -> Tenant:
    """An organization whose every personal value contains `marker`, so an export can be searched for it."""
    owner = UserFactory(email=f"owner-{marker}@example.com", name=f"Owner {marker}")
    organization = owner.organization
    organization.name = f"Org {marker}"
    organization.save(update_fields=["name"])
    admin = UserFactory(email=f"admin-{marker}@example.com", organization=organization, role=Role.ADMIN)
    member = UserFactory(email=f"member-{marker}@example.com", organization=organization, role=Role.MEMBER)
    deployment = DeploymentFactory(organization=organization, created_by=owner)
    contact = ContactFactory(deployment=deployment, name=f"Client {marker}", handles={"email": f"c-{marker}@x.io"})
    conversation = Conversation.objects.create(
        organization=organization, user=member, agent=deployment.agent, channel=Channel.WEB, title=f"Chat {marker}"
    )
    Message.objects.create(conversation=conversation, role=MessageRole.USER, content=f"Hello {marker}")
    Message.objects.create(conversation=conversation, role=MessageRole.ASSISTANT, content=f"Hi, {marker}")
    client_conversation = Conversation.objects.create(
        organization=organization,
        user=owner,
        agent=deployment.agent,
        channel=Channel.WIDGET,
        contact=contact,
        deployment=deployment,
    )
    Message.objects.create(conversation=client_conversation, role=MessageRole.USER, content=f"Need {marker}")
    lead = Lead.objects.create(
        organization=organization,
        contact=contact,
        conversation=client_conversation,
        deployment=deployment,
        name=f"Lead {marker}",
        email=f"lead-{marker}@example.com",
        need=f"Wants {marker}",
    )
    UsageEvent.objects.create(
        organization=organization, user=member, agent=deployment.agent, channel=Channel.WEB, outcome=Outcome.OK
    )
    account = BillingAccountFactory(organization=organization)
    payment = Payment.objects.create(
        account=account,
        provider=PaymentProvider.MANUAL,
        external_id=f"pay-{marker}",
        amount=Decimal("19.99"),
        currency="USD",
        status=PaymentStatus.SUCCEEDED,
        plan=account.plan,
        raw={"customer": {"email": f"owner-{marker}@example.com", "id": "ctm_1"}},
    )
    issue_invoice(payment)
    Notification.objects.create(
        user=member, organization=organization, kind=Kind.QUOTA_WARNING, key=f"q-{marker}", context={"who": marker}
    )
    WebhookEndpoint.objects.create(
        organization=organization, url=f"https://hooks.example.com/{marker}", secret_encrypted="-", created_by=owner
    )
    record_audit(action="test.marked", target=organization, organization=organization, actor=owner, after={"m": marker})
    return Tenant(organization, owner, admin, member, conversation, client_conversation, contact, lead, payment, marker)


@pytest.fixture
def tenant(db) -> Tenant:
    return make_tenant("alpha")


@pytest.fixture
def other_tenant(db) -> Tenant:
    return make_tenant("omega")


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed(execute=True): …` runs what the step queued for after its commit (the task, with no
    broker; its e-mail; file deletions), as a real commit would."""
    return django_capture_on_commit_callbacks
