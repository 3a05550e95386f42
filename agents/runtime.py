"""The agent runtime: prompt version → safe render → messages → provider call → stored exchange.

It knows nothing about plans, quotas or payments (it never imports `billing` or `policy`): the invoke
service decides and meters around it. Two steps, so the caller can meter a failure with the model
and version it was about to use: `prepare()` (no network) and `complete()` (the upstream call).
"""

import logging
import threading
import time
from dataclasses import dataclass, field

import openai
from django.conf import settings
from django.db import connections, router
from django.utils import timezone

from agents.models import Agent, Conversation, LLMProvider, Message, MessageRole, ProviderKind
from agents.provider_keys import provider_api_key
from botgeneric.errors import DomainError
from prompts.models import PromptVersion
from prompts.rendering import render
from prompts.selectors import active_version

logger = logging.getLogger(__name__)

DEFAULT_PROVIDER_CACHE_SECONDS = 30
# OpenAI-compatible servers without authentication still need a non-empty key in the SDK.
KEYLESS_PLACEHOLDER = "no-key"


class UpstreamError(DomainError):
    code = "upstream_error"
    http_status = 502


class UpstreamTimeout(DomainError):
    code = "upstream_timeout"
    http_status = 504


class AgentUnavailable(DomainError):
    code = "agent_unavailable"
    http_status = 503


@dataclass(frozen=True)
class ProviderConfig:
    """What the SDK client is built from; hashable, so one client per configuration is cached."""

    kind: str
    base_url: str
    api_key: str = field(repr=False)
    timeout: float
    max_retries: int


@dataclass
class PreparedCall:
    agent: Agent
    version: PromptVersion
    provider: ProviderConfig
    messages: list[dict[str, str]]
    model: str


@dataclass
class Completion:
    output: str
    tokens_input: int
    tokens_output: int
    latency_ms: int
    is_demo: bool = False


_clients: dict[ProviderConfig, openai.OpenAI] = {}
_clients_lock = threading.Lock()
_default_provider: tuple[float, LLMProvider | None] | None = None


def clear_caches() -> None:
    """Forget cached SDK clients and the default provider (tests; an operator change applies in 30 s)."""
    global _default_provider
    with _clients_lock:
        _clients.clear()
        _default_provider = None


def estimate_tokens(text: str) -> int:
    """About four characters per token: used to reserve quota before the real count is known."""
    return max(1, len(text) // 4) if text else 0


def _default_llm_provider() -> LLMProvider | None:
    global _default_provider
    now = time.monotonic()
    cached = _default_provider
    if cached is None or now - cached[0] > DEFAULT_PROVIDER_CACHE_SECONDS:
        cached = (now, LLMProvider.objects.filter(is_default=True).first())
        _default_provider = cached
    return cached[1]


def _builtin_provider() -> ProviderConfig:
    """No provider configured: OpenAI itself when OPENAI_API_KEY is set, else the offline demo."""
    if settings.OPENAI_API_KEY:
        return ProviderConfig(ProviderKind.OPENAI, settings.OPENAI_BASE_URL, settings.OPENAI_API_KEY, 30.0, 1)
    return ProviderConfig(ProviderKind.DEMO, "", "", 30.0, 0)


def resolve_provider(version: PromptVersion) -> ProviderConfig:
    """The version's provider, else the default one (is_default), else the built-in."""
    provider = version.provider if version.provider_id else _default_llm_provider()
    if provider is None:
        return _builtin_provider()
    if provider.kind == ProviderKind.DEMO:
        return ProviderConfig(ProviderKind.DEMO, "", "", provider.timeout, 0)
    api_key = provider_api_key(provider) or settings.OPENAI_API_KEY or KEYLESS_PLACEHOLDER
    base_url = provider.base_url or settings.OPENAI_BASE_URL
    return ProviderConfig(ProviderKind.OPENAI, base_url, api_key, provider.timeout, provider.max_retries)


def _client(config: ProviderConfig) -> openai.OpenAI:
    client = _clients.get(config)
    if client is None:
        with _clients_lock:
            client = _clients.get(config)
            if client is None:
                client = openai.OpenAI(
                    base_url=config.base_url or None,
                    api_key=config.api_key,
                    timeout=config.timeout,
                    max_retries=config.max_retries,
                )
                _clients[config] = client
    return client


def prepare(*, agent: Agent, input: str, variables: dict | None, history: list[Message]) -> PreparedCall:
    """Render the active version safely and build system + last N history + user messages.

    Raises AgentUnavailable (no active version) or PromptError (missing_variable)."""
    version = getattr(agent, "active_prompt", None) or active_version(agent=agent)
    if version is None:
        raise AgentUnavailable(detail=f"{agent.name} is not available right now.")
    user_message = render(version.template, input=input, variables=variables)
    messages = [{"role": "system", "content": version.system_prompt}]
    limit = settings.CONVERSATION_HISTORY_MESSAGES
    recent = history[-limit:] if limit > 0 else []
    messages.extend({"role": message.role, "content": message.content} for message in recent)
    messages.append({"role": "user", "content": user_message})
    return PreparedCall(
        agent=agent, version=version, provider=resolve_provider(version), messages=messages, model=version.model
    )


def complete(call: PreparedCall) -> Completion:
    """Run the prepared call on its provider. Raises UpstreamTimeout (504) or UpstreamError (502)."""
    if call.provider.kind == ProviderKind.DEMO:
        return _demo_completion(call)
    started = time.perf_counter()
    try:
        response = _client(call.provider).chat.completions.create(
            model=call.model,
            messages=call.messages,
            temperature=float(call.version.temperature),
            max_tokens=call.version.max_tokens,
        )
    except openai.APITimeoutError:
        logger.warning("upstream timeout agent=%s model=%s", call.agent.pk, call.model)
        raise UpstreamTimeout(detail="The model provider did not answer in time.") from None
    except (openai.APIError, ValueError) as exc:
        logger.warning("upstream error agent=%s model=%s: %s", call.agent.pk, call.model, type(exc).__name__)
        raise UpstreamError(detail="The model provider failed to answer.") from None
    latency_ms = int((time.perf_counter() - started) * 1000)
    output = _first_choice_text(response)
    usage = getattr(response, "usage", None)
    tokens_input = getattr(usage, "prompt_tokens", None)
    tokens_output = getattr(usage, "completion_tokens", None)
    return Completion(
        output=output,
        tokens_input=tokens_input if isinstance(tokens_input, int) else _estimate_messages(call.messages),
        tokens_output=tokens_output if isinstance(tokens_output, int) else estimate_tokens(output),
        latency_ms=latency_ms,
    )


def _first_choice_text(response) -> str:
    """The answer text, or UpstreamError for a body that is not a usable chat.completion."""
    choices = getattr(response, "choices", None)
    if not isinstance(choices, list) or not choices:
        raise UpstreamError(detail="The model provider sent an answer without choices.")
    message = getattr(choices[0], "message", None)
    content = getattr(message, "content", None)
    if not isinstance(content, str):
        raise UpstreamError(detail="The model provider sent an empty answer.")
    return content


def _estimate_messages(messages: list[dict[str, str]]) -> int:
    return sum(estimate_tokens(message["content"]) for message in messages)


def _demo_completion(call: PreparedCall) -> Completion:
    """Offline, deterministic and clearly labelled: lets the product run end to end without a key."""
    started = time.perf_counter()
    question = call.messages[-1]["content"]
    history = len(call.messages) - 2
    output = (
        f"[demo] {call.agent.name} (offline demo model, no AI provider configured) received "
        f"{len(question)} characters with {history} earlier messages: “{question[:200]}”"
    )
    return Completion(
        output=output,
        tokens_input=_estimate_messages(call.messages),
        tokens_output=estimate_tokens(output),
        latency_ms=int((time.perf_counter() - started) * 1000),
        is_demo=True,
    )


def store_exchange(
    *, conversation: Conversation | None, user, agent: Agent, channel: str, input: str, completion: Completion
) -> Conversation:
    """Save the user message and the answer (a new conversation if none): two INSERTs for a new
    conversation's first exchange (the conversation is saved first), one for the next ones."""
    if conversation is None:
        conversation = Conversation.objects.create(
            organization_id=user.organization_id,
            user=user,
            agent=agent,
            channel=channel,
            title=" ".join(input.split())[:80],
        )
    now = timezone.now()
    _insert_messages(
        [
            Message(
                conversation=conversation,
                role=MessageRole.USER,
                content=input,
                tokens_input=completion.tokens_input,
                created_at=now,
            ),
            Message(
                conversation=conversation,
                role=MessageRole.ASSISTANT,
                content=completion.output,
                tokens_output=completion.tokens_output,
                created_at=now,
            ),
        ]
    )
    return conversation


MESSAGE_COLUMNS = ("conversation", "role", "content", "tokens_input", "tokens_output", "created_at")


def _insert_messages(messages: list[Message]) -> None:
    """Both messages of an exchange in one INSERT statement. bulk_create() would wrap it in a
    transaction of its own: BEGIN and COMMIT are two more round trips on the hottest path."""
    connection = connections[router.db_for_write(Message)]
    fields = [Message._meta.get_field(name) for name in MESSAGE_COLUMNS]
    quote = connection.ops.quote_name
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    # Identifiers come from the model's metadata, quoted; every value is a query parameter.
    sql = (
        f"INSERT INTO {quote(Message._meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) "  # noqa: S608
        f"VALUES {', '.join([row] * len(messages))}"
    )
    params = [
        field.get_db_prep_save(getattr(message, field.attname), connection) for message in messages for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
