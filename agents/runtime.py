"""The agent runtime: prompt version → safe render → messages → streamed provider call → stored exchange.

It knows nothing about plans, quotas or payments (it never imports `billing` or `policy`): the invoke
service decides and meters around it. Two steps, so the caller can meter a failure with the model
and version it was about to use: `prepare()` (no network) and `UpstreamStream` (the upstream call,
an async iterator of text deltas that also keeps what it delivered and what it cost).
"""

import asyncio
import functools
import json
import logging
import re
import threading
import time
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx2
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
DEFAULT_FIRST_TOKEN_TIMEOUT = 30.0
DEFAULT_TOTAL_TIMEOUT = 300.0
# OpenAI-compatible servers without authentication still need a non-empty key in the SDK.
KEYLESS_PLACEHOLDER = "no-key"
DEMO_WORD = re.compile(r"\S+\s*")


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
    """What the SDK client is built from, and how long a streamed answer may take; hashable, so one
    client per configuration (and event loop) is cached."""

    kind: str
    base_url: str
    api_key: str = field(repr=False)
    timeout: float
    max_retries: int
    first_token_timeout: float = DEFAULT_FIRST_TOKEN_TIMEOUT
    total_timeout: float = DEFAULT_TOTAL_TIMEOUT


@dataclass
class PreparedCall:
    agent: Agent
    version: PromptVersion
    provider: ProviderConfig
    messages: list[dict[str, str]]
    model: str

    @property
    def estimated_input_tokens(self) -> int:
        """The whole prompt sent (system prompt + history + rendered input), estimated before the call."""
        return sum(estimate_tokens(message["content"]) for message in self.messages)


@dataclass
class Completion:
    output: str
    tokens_input: int
    tokens_output: int
    latency_ms: int
    is_demo: bool = False


# One SDK client per provider configuration and event loop: an async HTTP connection pool belongs to
# the loop it was opened in (the ASGI server's loop in production; a short-lived one per sync call).
_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[ProviderConfig, openai.AsyncOpenAI]]" = (
    weakref.WeakKeyDictionary()
)
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
    timeouts = {"first_token_timeout": provider.first_token_timeout, "total_timeout": provider.total_timeout}
    if provider.kind == ProviderKind.DEMO:
        return ProviderConfig(ProviderKind.DEMO, "", "", provider.timeout, 0, **timeouts)
    api_key = provider_api_key(provider) or KEYLESS_PLACEHOLDER
    base_url = provider.base_url or settings.OPENAI_BASE_URL
    return ProviderConfig(ProviderKind.OPENAI, base_url, api_key, provider.timeout, provider.max_retries, **timeouts)


@functools.cache
def _ssl_context():
    # Building the certificate store costs ~60 ms; every client shares one.
    return httpx2.create_ssl_context()


def _client(config: ProviderConfig) -> openai.AsyncOpenAI:
    loop = asyncio.get_running_loop()
    with _clients_lock:
        per_loop = _clients.setdefault(loop, {})
        client = per_loop.get(config)
        if client is None:
            client = openai.AsyncOpenAI(
                base_url=config.base_url or None,
                api_key=config.api_key,
                timeout=config.timeout,
                max_retries=config.max_retries,
                http_client=openai.DefaultAsyncHttpxClient(verify=_ssl_context()),
            )
            per_loop[config] = client
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


class UpstreamStream:
    """One upstream call: `async for text in stream` yields the answer's text as it arrives.

    Raises UpstreamTimeout (504: no first words within the provider's first-token timeout, or the
    answer outlasted its total timeout) or UpstreamError (502). `completion()` says, at any point,
    what was delivered and what it cost: the provider's usage counts when it sent them, else an
    estimate of the prompt and of the text delivered so far. `aclose()` (or cancelling the task that
    iterates) closes the upstream connection at once, so the provider stops generating.
    """

    def __init__(self, call: PreparedCall):
        self.call = call
        self.parts: list[str] = []
        self.usage: tuple[int, int] | None = None
        self._started = time.perf_counter()
        self._ended: float | None = None
        is_demo = call.provider.kind == ProviderKind.DEMO
        self.is_demo = is_demo
        self._deltas = self._demo_deltas() if is_demo else self._openai_deltas()

    def __aiter__(self) -> AsyncIterator[str]:
        return self._deltas

    async def aclose(self) -> None:
        await self._deltas.aclose()

    @property
    def output(self) -> str:
        return "".join(self.parts)

    def completion(self) -> Completion:
        output = self.output
        if self.usage is not None:
            tokens_input, tokens_output = self.usage
        else:
            tokens_input, tokens_output = self.call.estimated_input_tokens, estimate_tokens(output)
        ended = self._ended if self._ended is not None else time.perf_counter()
        return Completion(
            output=output,
            tokens_input=tokens_input,
            tokens_output=tokens_output,
            latency_ms=int((ended - self._started) * 1000),
            is_demo=self.is_demo,
        )

    async def _openai_deltas(self) -> AsyncIterator[str]:
        """The SDK makes the request (key, retries, status errors); the Server-Sent Events are read here
        as plain JSON, which costs a hundredth of building the SDK's typed chunk for every word."""
        call, provider = self.call, self.call.provider
        loop = asyncio.get_running_loop()
        first_token_deadline = loop.time() + provider.first_token_timeout
        total_deadline = loop.time() + provider.total_timeout
        response = None
        try:
            async with asyncio.timeout_at(min(first_token_deadline, total_deadline)):
                response = (
                    await _client(provider)
                    .chat.completions.with_streaming_response.create(
                        model=call.model,
                        messages=call.messages,
                        temperature=float(call.version.temperature),
                        max_tokens=call.version.max_tokens,
                        stream=True,
                        stream_options={"include_usage": True},
                    )
                    .__aenter__()
                )
            events = _server_sent_data(response.iter_lines())
            while True:
                deadline = total_deadline if self.parts else min(first_token_deadline, total_deadline)
                async with asyncio.timeout_at(deadline):
                    data = await anext(events, None)
                if data is None or data == "[DONE]":
                    break
                text = self._take(json.loads(data))
                if text:
                    self.parts.append(text)
                    yield text
        except (TimeoutError, openai.APITimeoutError, httpx2.TimeoutException):
            logger.warning(
                "upstream timeout agent=%s model=%s after %d chars", call.agent.pk, call.model, len(self.output)
            )
            raise UpstreamTimeout(detail="The model provider did not answer in time.") from None
        except (openai.APIError, httpx2.HTTPError, ValueError, TypeError, AttributeError, KeyError) as exc:
            logger.warning("upstream error agent=%s model=%s: %s", call.agent.pk, call.model, type(exc).__name__)
            raise UpstreamError(detail="The model provider failed to answer.") from None
        finally:
            self._ended = time.perf_counter()
            if response is not None:
                await response.close()
        if not self.parts:
            raise UpstreamError(detail="The model provider sent an empty answer.")

    def _take(self, chunk: dict) -> str:
        """The text of one `chat.completion.chunk` (NUL characters dropped: no channel nor PostgreSQL can
        carry them); remembers the usage chunk's counts. An `error` object mid-stream is a failure."""
        if chunk.get("error"):
            raise ValueError("the provider reported an error mid-stream")
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            tokens_input, tokens_output = usage.get("prompt_tokens"), usage.get("completion_tokens")
            if isinstance(tokens_input, int) and isinstance(tokens_output, int):
                self.usage = (tokens_input, tokens_output)
        choices = chunk.get("choices") or []
        text = (choices[0].get("delta") or {}).get("content") if choices else None
        return text.replace("\x00", "") if isinstance(text, str) else ""

    async def _demo_deltas(self) -> AsyncIterator[str]:
        """Offline, deterministic and clearly labelled, streamed word by word (DEMO_TOKEN_DELAY_MS apart):
        lets the product run end to end, streaming included, without a key."""
        delay = settings.DEMO_TOKEN_DELAY_MS / 1000
        try:
            for word in DEMO_WORD.findall(demo_answer(self.call)):
                if delay and self.parts:
                    await asyncio.sleep(delay)
                self.parts.append(word)
                yield word
        finally:
            self._ended = time.perf_counter()


async def _server_sent_data(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    """The `data` of each Server-Sent Event (its `data:` lines joined); comments and other fields skipped."""
    data: list[str] = []
    async for line in lines:
        if line.startswith("data:"):
            value = line[5:]
            data.append(value[1:] if value.startswith(" ") else value)
        elif not line and data:
            yield "\n".join(data)
            data = []
    if data:
        yield "\n".join(data)


def demo_answer(call: PreparedCall) -> str:
    question = call.messages[-1]["content"]
    history = len(call.messages) - 2
    return (
        f"[demo] {call.agent.name} (offline demo model, no AI provider configured) received "
        f"{len(question)} characters with {history} earlier messages: “{question[:200]}”"
    )


def store_exchange(
    *,
    conversation: Conversation | None,
    user,
    agent: Agent,
    channel: str,
    input: str,
    completion: Completion,
    interrupted: bool = False,
) -> Conversation:
    """Save the user message and the answer (a new conversation if none): two INSERTs for a new
    conversation's first exchange (the conversation is saved first), one for the next ones.
    `interrupted` marks an answer that stopped early (the client left, the provider failed)."""
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
                interrupted=interrupted,
                created_at=now,
            ),
        ]
    )
    return conversation


MESSAGE_COLUMNS = ("conversation", "role", "content", "interrupted", "tokens_input", "tokens_output", "created_at")


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
