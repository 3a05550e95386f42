"""Reads of deployments, contacts and their conversations, always inside the caller's organization:
another organization's id answers 404, never 403."""

from django.conf import settings
from django.db.models import Count, Max, Prefetch, QuerySet
from django.db.models.functions import Coalesce

from accounts.models import User
from agents.models import Conversation, Message
from agents.selectors import recent_messages
from botgeneric.errors import ApiErrorCode, DomainError
from deployments.models import Contact, Deployment, DeploymentStatus
from tenants.models import Role


class NotFound(DomainError):
    code = ApiErrorCode.NOT_FOUND
    http_status = 404


def deployments_for(*, organization_id: int | None) -> QuerySet[Deployment]:
    return Deployment.objects.filter(organization_id=organization_id).select_related("agent", "created_by")


def access_deployment(*, user, deployment_id) -> Deployment:
    deployment = deployments_for(organization_id=user.organization_id).filter(pk=deployment_id).first()
    if deployment is None or user.organization_id is None:
        raise NotFound(detail="Deployment not found.")
    return deployment


def deployment_for_webhook(*, deployment_id: int) -> Deployment | None:
    """A Telegram deployment by the id in its webhook path (the secret is checked by the caller)."""
    return Deployment.objects.select_related("agent").filter(pk=deployment_id, channel="telegram").first()


def deployment_for_widget(*, public_key: str) -> Deployment | None:
    return Deployment.objects.select_related("agent").filter(public_key=public_key, channel="widget").first()


def is_live(deployment: Deployment) -> bool:
    return deployment.status == DeploymentStatus.ACTIVE


def principal(*, deployment: Deployment) -> User | None:
    """The member a deployment's calls act as (and are metered for): its creator while an active member
    of the organization, else the organization's active owner. None: nobody can answer for it."""
    creator = deployment.created_by
    if creator is not None and creator.is_active and creator.organization_id == deployment.organization_id:
        return creator
    return (
        User.objects.filter(organization_id=deployment.organization_id, role=Role.OWNER, is_active=True)
        .order_by("pk")
        .first()
    )


def contacts_for(
    *, organization_id: int | None, channel: str | None = None, deployment_id: int | None = None
) -> QuerySet[Contact]:
    """The organization's clients, the most recently active first, with their conversation count;
    optionally only those of one channel or who came through one deployment."""
    contacts = Contact.objects.filter(organization_id=organization_id)
    if channel:
        contacts = contacts.filter(channel=channel)
    if deployment_id:
        contacts = contacts.filter(deployment_id=deployment_id)
    return (
        contacts.select_related("deployment")
        .annotate(conversation_count=Count("conversations"))
        .order_by("-last_seen_at", "-id")
    )


def access_contact(*, user, contact_id) -> Contact:
    contact = contacts_for(organization_id=user.organization_id).filter(pk=contact_id).first()
    if contact is None or user.organization_id is None:
        raise NotFound(detail="Contact not found.")
    return contact


def client_conversations_for(*, organization_id: int | None, contact: Contact | None = None) -> QuerySet[Conversation]:
    """Conversations of the organization's clients (the inbox), newest activity first: the last message, or
    the opening of a conversation that has none yet (a first message that was refused)."""
    conversations = Conversation.objects.filter(organization_id=organization_id, contact__isnull=False)
    if contact is not None:
        conversations = conversations.filter(contact=contact)
    return (
        conversations.select_related("agent", "contact", "deployment")
        .annotate(last_message_at=Max("messages__created_at"), message_count=Count("messages"))
        .annotate(last_activity_at=Coalesce("last_message_at", "created_at"))
        .order_by("-last_activity_at", "-id")
    )


def conversations_by_contact(*, organization_id: int | None, contact_ids: list[int]) -> dict[int, list[Conversation]]:
    """The conversations of these contacts (one query), newest activity first, grouped by contact id."""
    grouped: dict[int, list[Conversation]] = {contact_id: [] for contact_id in contact_ids}
    for conversation in client_conversations_for(organization_id=organization_id).filter(contact_id__in=contact_ids):
        grouped[conversation.contact_id].append(conversation)
    return grouped


def access_client_conversation(*, user, conversation_id) -> Conversation:
    conversation = (
        client_conversations_for(organization_id=user.organization_id)
        .filter(pk=conversation_id)
        .prefetch_related(Prefetch("messages", queryset=Message.objects.order_by("id")))
        .first()
    )
    if conversation is None or user.organization_id is None:
        raise NotFound(detail="Conversation not found.")
    return conversation


def running_conversation(*, deployment: Deployment, contact: Contact) -> Conversation | None:
    """The contact's latest conversation on this deployment, with its recent history."""
    conversation = (
        Conversation.objects.select_related("agent")
        .filter(deployment=deployment, contact=contact, agent_id=deployment.agent_id)
        .order_by("-id")
        .first()
    )
    if conversation is not None:
        conversation.recent_messages = recent_messages(
            conversation=conversation, limit=settings.CONVERSATION_HISTORY_MESSAGES
        )
    return conversation
