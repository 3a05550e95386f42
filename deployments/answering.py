"""One client message to a deployment's agent, for every deployment channel (the tenant bot, the widget).

The client is a Contact; the call runs through `agents.services.invoke_stream` in the name of the member
the deployment acts as, on the deployment's channel, so the organization's plan decides and meters it
like any other call. A refusal is a polite line for the client, and the organization's owner hears
why (once a day per deployment and reason) when it is theirs to fix: a quota used up, a lapsed plan.
"""

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.core.cache import cache
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agents.models import Agent, Conversation
from agents.selectors import with_active_prompt
from agents.services import StreamDone, TextDelta, invoke_stream
from agents.tools import ToolContext
from botgeneric.errors import DomainError
from deployments import selectors, services
from deployments.errors import DeploymentErrorCode
from deployments.models import Contact, Deployment
from notifications import direct as owner_notices
from policy.errors import DenyCode, PolicyDenied

logger = logging.getLogger(__name__)

# Refusals the owner can fix (pay, upgrade, raise a quota), with why in the owner's words: they are told,
# once a day per deployment.
OWNER_FIXES = {
    DenyCode.NO_SUBSCRIPTION: gettext_lazy("The organization has no subscription."),
    DenyCode.SUBSCRIPTION_INACTIVE: gettext_lazy("The subscription is not active (expired, canceled or unpaid)."),
    DenyCode.AGENT_NOT_IN_PLAN: gettext_lazy("The plan does not include this agent."),
    DenyCode.CHANNEL_NOT_ALLOWED: gettext_lazy("The plan does not allow this channel."),
    DenyCode.QUOTA_EXCEEDED: gettext_lazy("The quota of this billing period is used up."),
    DenyCode.EMAIL_UNVERIFIED: gettext_lazy("The trial is limited until your e-mail address is verified."),
    DenyCode.FEATURE_NOT_IN_PLAN: gettext_lazy("The plan does not include deployments."),
}
NOTICE_SECONDS = 24 * 3600


class DeploymentUnavailable(DomainError):
    code = DeploymentErrorCode.DEPLOYMENT_UNAVAILABLE
    http_status = 503


@dataclass
class Turn:
    user: object
    agent: Agent
    conversation: Conversation
    tool_context: ToolContext


def _prepare(*, deployment: Deployment, contact: Contact) -> Turn:
    if not selectors.is_live(deployment):
        raise DeploymentUnavailable(detail="This assistant is paused.")
    user = selectors.principal(deployment=deployment)
    if user is None:
        raise DeploymentUnavailable(detail="Nobody in the organization can answer for this deployment.")
    services.require_deployments(organization_id=deployment.organization_id)
    agent = with_active_prompt(Agent.objects.filter(pk=deployment.agent_id)).get()
    conversation = selectors.running_conversation(deployment=deployment, contact=contact)
    if conversation is None:
        conversation = services.open_conversation(deployment=deployment, contact=contact, user=user)
        conversation.recent_messages = []
    context = ToolContext(
        organization_id=deployment.organization_id,
        user=user,
        conversation=conversation,
        contact_id=contact.pk,
        deployment_id=deployment.pk,
    )
    return Turn(user=user, agent=agent, conversation=conversation, tool_context=context)


async def answer(*, deployment: Deployment, contact: Contact, text: str) -> AsyncIterator[TextDelta | StreamDone]:
    """The agent's answer to `text` as the invoke service streams it. Refusals and failures raise as
    from `invoke_stream`; a refusal the owner can fix also tells the owner (after the fact, off the
    client's path)."""
    try:
        turn = await sync_to_async(_prepare)(deployment=deployment, contact=contact)
    except PolicyDenied as denied:
        await sync_to_async(tell_owner)(deployment=deployment, denied=denied)
        raise
    stream = invoke_stream(
        user=turn.user,
        agent=turn.agent,
        channel=deployment.channel,
        input=text,
        conversation=turn.conversation,
        tool_context=turn.tool_context,
    )
    try:
        async for event in stream:
            yield event
    except PolicyDenied as denied:
        await sync_to_async(tell_owner)(deployment=deployment, denied=denied)
        raise
    finally:
        await stream.aclose()


def client_message(error: DomainError) -> str:
    """What the client is told instead of an answer: polite, and never the organization's business."""
    if error.code == DenyCode.RATE_LIMITED or error.code == DeploymentErrorCode.VISITOR_RATE_LIMITED:
        return _("You are writing faster than I can answer. Please wait a minute and try again.")
    if error.code in ("upstream_error", "upstream_timeout"):
        return _("Sorry, I could not answer just now. Please try again in a moment.")
    return _("Sorry, I cannot answer right now. Please try again later.")


def tell_owner(*, deployment: Deployment, denied: PolicyDenied) -> None:
    """Tell the owner why their clients get no answer, once a day per deployment and reason."""
    if denied.code not in OWNER_FIXES:
        return
    if not cache.add(f"deployments:notice:{deployment.pk}:{denied.code}", 1, NOTICE_SECONDS):
        return
    reason = OWNER_FIXES[denied.code]

    def render() -> tuple[str, str]:
        where = f"@{deployment.bot_username}" if deployment.bot_username else _("your website chat")
        subject = _("Your clients are not being answered")
        text = _(
            "%(agent)s on %(where)s cannot answer your clients: %(reason)s Open Billing to fix it; "
            "your clients are told to try again later."
        ) % {"agent": deployment.agent.name, "where": where, "reason": reason}
        return subject, text

    people = owner_notices.owners_and(organization_id=deployment.organization_id)
    owner_notices.notify(people=people, render=render)
    logger.info("owner told deployment=%s code=%s", deployment.pk, denied.code)
