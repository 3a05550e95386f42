"""The invoke service: the one path every channel (API, web, Telegram, OpenAI-compatible) calls.

authorize (reserve) → runtime → settle + UsageEvent. No transaction is open during the upstream
call: the reservation is a single UPDATE that commits at once.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from agents import runtime
from agents.models import Agent, Conversation
from agents.selectors import recent_messages
from botgeneric.errors import DomainError
from policy.errors import PolicyDenied
from policy.services import Access, Grant, authorize
from usage import services as usage_services
from usage.models import Outcome

logger = logging.getLogger(__name__)


@dataclass
class InvokeResult:
    output: str
    conversation: Conversation
    prompt_version: int
    tokens_input: int
    tokens_output: int
    latency_ms: int
    is_demo: bool


class ConversationMismatch(DomainError):
    code = "invalid"
    http_status = 400


def invoke(
    *,
    user,
    agent: Agent,
    channel: str,
    input: str,
    variables: dict[str, str] | None = None,
    conversation: Conversation | None = None,
    access: Access | None = None,
) -> InvokeResult:
    """Run `agent` for `user` on `channel`, metered. Raises PolicyDenied, UpstreamError (502),
    UpstreamTimeout (504), PromptError (missing_variable, 400) — nothing is charged unless it answers.

    `conversation` continues a conversation the channel already fetched through
    `agents.selectors.access_conversation`; `access` is the decision the API's PolicyPermission made.
    """
    if conversation is not None and conversation.agent_id != agent.pk:
        raise ConversationMismatch(
            detail="This conversation belongs to another agent.",
            extra={"fields": {"conversation_id": ["This conversation belongs to another agent."]}},
        )
    estimate = runtime.estimate_tokens(input)
    try:
        grant = authorize(user=user, agent=agent, channel=channel, meta={"tokens_input": estimate}, access=access)
    except PolicyDenied as denied:
        usage_services.record_event(
            user=user, agent=agent, channel=channel, outcome=Outcome.DENIED, error_code=denied.code
        )
        raise
    call = None
    try:
        history = _history(conversation)
        call = runtime.prepare(agent=agent, input=input, variables=variables, history=history)
        _release_pooled_connection()
        completion = runtime.complete(call)
    except DomainError as failure:
        _record_failure(grant=grant, user=user, agent=agent, channel=channel, call=call, failure=failure)
        raise
    # Three single-statement writes, no wrapping transaction: each is atomic on its own, the hot
    # path stays within its query budget (BEGIN/COMMIT are round trips too), and no lock is held
    # across them. The exchange is stored first so the customer never pays for an answer we lost.
    conversation = runtime.store_exchange(
        conversation=conversation, user=user, agent=agent, channel=channel, input=input, completion=completion
    )
    usage_services.settle(
        account=grant.account,
        period_start=grant.period_start,
        reserved_tokens_input=grant.reserved_tokens_input,
        tokens_input=completion.tokens_input,
        tokens_output=completion.tokens_output,
    )
    usage_services.record_event(
        user=user,
        agent=agent,
        channel=channel,
        outcome=Outcome.OK,
        prompt_version=call.version,
        model="demo" if completion.is_demo else call.model,
        tokens_input=completion.tokens_input,
        tokens_output=completion.tokens_output,
        latency_ms=completion.latency_ms,
    )
    return InvokeResult(
        output=completion.output,
        conversation=conversation,
        prompt_version=call.version.version,
        tokens_input=completion.tokens_input,
        tokens_output=completion.tokens_output,
        latency_ms=completion.latency_ms,
        is_demo=completion.is_demo,
    )


def _release_pooled_connection() -> None:
    """With a connection pool, hand the connection back while we wait on the provider, so N calls in
    flight need the pool's few connections, not N. Not inside a transaction (a caller's atomic block,
    or a test's), and not without a pool: reconnecting would cost more than it saves."""
    connection = transaction.get_connection()
    if connection.in_atomic_block or not connection.settings_dict.get("OPTIONS", {}).get("pool"):
        return
    connection.close()


def _history(conversation: Conversation | None) -> list:
    if conversation is None:
        return []
    preloaded = getattr(conversation, "recent_messages", None)
    if preloaded is not None:
        return preloaded
    return recent_messages(conversation=conversation, limit=settings.CONVERSATION_HISTORY_MESSAGES)


def _record_failure(*, grant: Grant, user, agent: Agent, channel: str, call, failure: DomainError) -> None:
    """Release the reservation and meter the failure; the customer is not charged for it."""
    logger.info("invoke failed org=%s agent=%s code=%s", user.organization_id, agent.pk, failure.code)
    with transaction.atomic():
        usage_services.release(
            account=grant.account,
            period_start=grant.period_start,
            reserved_requests=grant.reserved_requests,
            reserved_tokens_input=grant.reserved_tokens_input,
        )
        usage_services.record_event(
            user=user,
            agent=agent,
            channel=channel,
            outcome=Outcome.ERROR,
            error_code=failure.code,
            prompt_version=call.version if call else None,
            model=call.model if call else "",
        )
