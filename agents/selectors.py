"""Reads for agents and conversations; tenant-owned rows always through the caller's organization."""

from django.db import connections, router
from django.db.models import Exists, FilteredRelation, OuterRef, Q, QuerySet

from agents.models import Agent, Conversation, LLMProvider, Message
from botgeneric.errors import ApiErrorCode, DomainError
from botgeneric.prepared_statements import fetch_one
from botgeneric.raw_rows import ModelColumns, split
from policy.errors import DenyCode, PolicyDenied
from prompts.models import PromptVersion
from prompts.models import Status as PromptStatus


class NotFound(DomainError):
    code = ApiErrorCode.NOT_FOUND
    http_status = 404


# Questions and answers only: tool steps (an assistant's calls, a tool's result) are not history.
TURNS_ONLY = {"role__in": ["user", "assistant"], "tool_calls__isnull": True}


def with_active_prompt(queryset: QuerySet[Agent]) -> QuerySet[Agent]:
    """Join each agent's active prompt version (and its provider) as `agent.active_prompt`, so the
    runtime needs no query of its own for it."""
    return queryset.annotate(
        active_prompt=FilteredRelation("prompt_versions", condition=Q(prompt_versions__status="active"))
    ).select_related("active_prompt", "active_prompt__provider")


def access_agent(*, agent_id) -> Agent:
    """An agent of the catalog by id (active or not: the policy says agent_not_found for an inactive one),
    with its active prompt joined. An unknown id is agent_not_found (404)."""
    try:
        agent_id = int(agent_id)
    except (TypeError, ValueError):
        agent_id = None
    agent = _agent_with_active_prompt("id", agent_id) if agent_id is not None else None
    if agent is None:
        raise PolicyDenied(DenyCode.AGENT_NOT_FOUND, "Agent not found.")
    return agent


def agent_by_slug(*, slug: str) -> Agent | None:
    """An agent of the catalog by slug, with its active prompt joined (as `access_agent`), or None."""
    return _agent_with_active_prompt("slug", slug)


class _ActivePromptQuery:
    """`with_active_prompt(Agent.objects.filter(<column>=value)).first()` written out once per process
    (`botgeneric.raw_rows`): every invoke runs it, and building the FilteredRelation join cost ~1.5 ms."""

    def __init__(self, connection, column: str):
        quote = connection.ops.quote_name
        self.parts = [ModelColumns(connection, model, alias) for model, alias in _JOINED]
        self.sql = (
            f"SELECT {', '.join(column for part in self.parts for column in part.columns)} "  # noqa: S608
            f"FROM {quote(Agent._meta.db_table)} a "
            f"LEFT JOIN {quote(PromptVersion._meta.db_table)} v ON v.agent_id = a.id AND v.status = %s "
            f"LEFT JOIN {quote(LLMProvider._meta.db_table)} p ON p.id = v.provider_id "
            f"WHERE a.{quote(column)} = %s LIMIT 1"
        )


_JOINED = ((Agent, "a"), (PromptVersion, "v"), (LLMProvider, "p"))
_queries: dict[tuple[str, str], _ActivePromptQuery] = {}


def _agent_with_active_prompt(column: str, value) -> Agent | None:
    connection = connections[router.db_for_read(Agent)]
    query = _queries.get((connection.alias, column))
    if query is None:
        query = _queries.setdefault((connection.alias, column), _ActivePromptQuery(connection, column))
    row = fetch_one(connection, query.sql, [PromptStatus.ACTIVE.value, value])
    if row is None:
        return None
    agent, version, provider = split(row, query.parts, connection)
    if version is not None:
        version.provider = provider
        version.agent = agent
    agent.active_prompt = version
    return agent


def conversations_for(*, user) -> QuerySet[Conversation]:
    """The caller's own conversations (own organization and own user), most recently active first; never
    those of the organization's clients, which a deployment holds in the member's name."""
    return (
        Conversation.objects.filter(organization_id=user.organization_id, user_id=user.pk, contact__isnull=True)
        .select_related("agent")
        .order_by("-updated_at", "-id")
    )


def search_conversations(conversations: QuerySet[Conversation], *, text: str) -> QuerySet[Conversation]:
    """The conversations whose title, agent or any message contains `text` (case-insensitive)."""
    in_messages = Message.objects.filter(conversation_id=OuterRef("pk"), content__icontains=text)
    return conversations.filter(Q(title__icontains=text) | Q(agent__name__icontains=text) | Exists(in_messages))


def recent_messages(*, conversation: Conversation, limit: int) -> list[Message]:
    """The last `limit` questions and answers, oldest first (the history the runtime sends). A tool loop's
    calls and results stay in the record but are not sent again: the answer that followed them says it."""
    if limit <= 0:
        return []
    return list(conversation.messages.filter(**TURNS_ONLY).order_by("-id")[:limit])[::-1]


def access_conversation(*, user, conversation_id, history: int = 0) -> Conversation:
    """The conversation if it is the caller's own (organization and user, not a client's); otherwise 404.

    With `history`, the last `history` messages come in the same query (joined from the message side)
    as `conversation.recent_messages`, oldest first — the invoke path stays within its query budget.
    """
    scope = {
        "conversation__organization_id": user.organization_id,
        "conversation__user_id": user.pk,
        "conversation__contact__isnull": True,
    }
    if history > 0:
        recent = list(
            Message.objects.select_related("conversation__agent")
            .filter(conversation_id=conversation_id, **scope, **TURNS_ONLY)
            .order_by("-id")[:history]
        )
        if recent:
            conversation = recent[0].conversation
            conversation.recent_messages = recent[::-1]
            return conversation
    conversation = (
        Conversation.objects.select_related("agent")
        .filter(pk=conversation_id, organization_id=user.organization_id, user_id=user.pk, contact__isnull=True)
        .first()
    )
    if conversation is None:
        raise NotFound(detail="Conversation not found.")
    if history > 0:
        conversation.recent_messages = []
    return conversation


def messages_of(*, conversation: Conversation) -> QuerySet[Message]:
    return conversation.messages.order_by("id")
