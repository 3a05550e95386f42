"""The agent runtime: prompt version → safe render → messages → streamed provider call → stored exchange.

It knows nothing about plans, quotas or payments (it never imports `billing` or `policy`): the invoke
service decides and meters around it. Two steps, so the caller can meter a failure with the model
and version it was about to use: `prepare()` (no network) and `UpstreamStream` (the upstream call).

The interface, for the invoke service and for anything that drives the model turn by turn (a tool loop):

- `prepare(agent=, input=, variables=, history=, messages=None, options=None, version=None) -> PreparedCall`
  builds the messages: the agent's system prompt first (never replaced: a caller's `system` messages
  come after it as additional instructions), the stored `history`, then the caller's `messages`
  (OpenAI chat messages: user / assistant with optional `tool_calls` / tool results / system) with the
  last user message rendered through the version's template. Without `messages`, `input` is that last
  user message. The oldest earlier messages are dropped to fit the version's `context_tokens`
  (a message and the tool results answering it go together); what still does not fit raises
  `ContextTooLong`. `options` (`CallOptions`) are the sampling parameters, `tools`, `tool_choice`,
  `parallel_tool_calls` and `response_format` sent with the call; the answer's length is capped at
  the version's `max_tokens` whatever the caller asks (`PreparedCall.max_output_tokens`).
- `PreparedCall.extended(messages)` is the same call with more messages appended (an assistant
  message carrying `tool_calls`, then one `{"role": "tool", "tool_call_id", "content"}` per call):
  the next turn of a tool loop, with the same options.
- `UpstreamStream(call)`: `async for piece in stream` yields `str` (the answer's text, as it arrives)
  and, only when the call offered `tools`, `ToolCallDelta` (a fragment of a tool call: `index`, and
  `id` / `name` on its first fragment, `arguments` text to append). After the loop,
  `stream.finish_reason` is the provider's (`stop`, `length`, `tool_calls`, `content_filter`) and
  `stream.tool_calls` the complete calls in OpenAI's shape (`{"id", "type": "function", "function":
  {"name", "arguments"}}`); `stream.completion()` says at any point what was delivered and what it
  cost. An answer with neither text nor tool calls raises UpstreamError.
"""

import asyncio
import contextlib
import dataclasses
import functools
import json
import logging
import re
import threading
import time
import weakref
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import httpx2
import openai
from django.conf import settings
from django.db import connections, router
from django.utils import timezone

from agents.errors import AgentErrorCode
from agents.models import Agent, Conversation, LLMProvider, Message, MessageRole, ProviderKind
from agents.provider_keys import provider_api_key
from botgeneric import metrics
from botgeneric.errors import DomainError
from botgeneric.one_statement import Write
from prompts.models import PromptVersion
from prompts.rendering import render
from prompts.selectors import active_version

logger = logging.getLogger(__name__)

DEFAULT_PROVIDER_CACHE_SECONDS = 30
DEFAULT_FIRST_TOKEN_TIMEOUT = 30.0
DEFAULT_TOTAL_TIMEOUT = 300.0
# OpenAI-compatible servers without authentication still need a non-empty key in the SDK.
KEYLESS_PLACEHOLDER = "no-key"
# Asks the SDK for the raw response, its body not yet read (what `with_streaming_response` sends).
RAW_STREAM_HEADER = "X-Stainless-Raw-Response"
# After `data: [DONE]` the rest of the body (normally only the chunked terminator) is read for at most this
# long, so the connection goes back to the pool; an upstream that keeps the body open is then closed.
AFTER_DONE_SECONDS = 0.25
DEMO_WORD = re.compile(r"\S+\s*")


class UpstreamError(DomainError):
    code = AgentErrorCode.UPSTREAM_ERROR
    http_status = 502


class UpstreamTimeout(DomainError):
    code = AgentErrorCode.UPSTREAM_TIMEOUT
    http_status = 504


class AgentUnavailable(DomainError):
    code = AgentErrorCode.AGENT_UNAVAILABLE
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


class ContextTooLong(DomainError):
    """Even with every earlier message dropped, the prompt does not fit the version's context budget."""

    code = AgentErrorCode.CONTEXT_LENGTH_EXCEEDED
    http_status = 400


@dataclass(frozen=True)
class CallOptions:
    """Per-call parameters sent to the provider on top of the prompt version's settings; None = not sent
    (the version's temperature and max_tokens apply). Validated by the channel that takes them."""

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: list[str] | None = None
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    user: str | None = None
    response_format: dict | None = None
    tools: list[dict] | None = None
    tool_choice: str | dict | None = None
    parallel_tool_calls: bool | None = None


@dataclass(frozen=True)
class ToolCallDelta:
    """A fragment of a tool call as the provider streams it: `id` and `name` come with the first
    fragment of call `index`, `arguments` is JSON text to append."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass
class PreparedCall:
    agent: Agent
    version: PromptVersion
    provider: ProviderConfig
    messages: list[dict]
    model: str
    input: str = ""
    options: CallOptions = field(default_factory=CallOptions)

    @property
    def estimated_input_tokens(self) -> int:
        """The whole prompt sent (system prompt + history + rendered input + tool definitions), estimated
        before the call."""
        tools = estimate_tokens(json.dumps(self.options.tools)) if self.options.tools else 0
        return sum(_message_tokens(message) for message in self.messages) + tools

    @property
    def max_output_tokens(self) -> int:
        """The caller's max_tokens, never above the version's."""
        asked = self.options.max_tokens
        return min(asked, self.version.max_tokens) if asked else self.version.max_tokens

    def extended(self, messages: list[dict]) -> "PreparedCall":
        """The next turn of the same call: `messages` appended (an assistant message with `tool_calls`,
        then the tool results), the same agent, version, provider and options."""
        return dataclasses.replace(self, messages=[*self.messages, *messages])

    def request(self) -> dict:
        """The Chat Completions parameters of this call (streaming ones aside)."""
        options = self.options
        body = {
            "model": self.model,
            "messages": self.messages,
            "temperature": options.temperature if options.temperature is not None else float(self.version.temperature),
            "max_tokens": self.max_output_tokens,
        }
        for name in SENT_AS_IS:
            value = getattr(options, name)
            if value is not None:
                body[name] = value
        return body


# CallOptions passed to the provider unchanged when set (temperature and max_tokens have defaults).
SENT_AS_IS = (
    "top_p",
    "stop",
    "seed",
    "presence_penalty",
    "frequency_penalty",
    "user",
    "response_format",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
)


@dataclass
class Completion:
    output: str
    tokens_input: int
    tokens_output: int
    latency_ms: int
    is_demo: bool = False
    tool_calls: list[dict] = field(default_factory=list)
    finish_reason: str = "stop"


# One SDK client per provider configuration and event loop: an aiohttp connection pool belongs to the loop
# it was opened in (the ASGI server's loop in production; a short-lived one per synchronous call), and is
# closed when that loop ends (`_closed_at_loop_end`).
_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopClients]" = weakref.WeakKeyDictionary()
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


def _message_tokens(message: dict) -> int:
    content = message.get("content")
    tokens = estimate_tokens(content if isinstance(content, str) else json.dumps(content) if content else "")
    if message.get("tool_calls"):
        tokens += estimate_tokens(json.dumps(message["tool_calls"]))
    return tokens


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


@dataclass
class _LoopClients:
    """The SDK clients of one event loop, and the generator that closes them when the loop ends."""

    clients: dict[ProviderConfig, openai.AsyncOpenAI] = field(default_factory=dict)
    closer: AsyncGenerator[None] | None = None


async def _closed_at_loop_end(clients: dict[ProviderConfig, openai.AsyncOpenAI]) -> AsyncGenerator[None]:
    """Waits at its `yield` for the loop's whole life, then closes the loop's clients: `asyncio.run()` (asgiref's
    loop per synchronous call, uvicorn's, the benchmark's) closes every open async generator before it closes
    the loop (`loop.shutdown_asyncgens()`), and one dropped by `clear_caches()` is closed on its loop. An
    aiohttp session left open warns "Unclosed client session", and it holds its loop: the loop's entry in
    `_clients` goes too."""
    try:
        yield
    finally:
        loop = asyncio.get_running_loop()
        with _clients_lock:
            entry = _clients.get(loop)
            if entry is not None and entry.clients is clients:
                del _clients[loop]
        for client in list(clients.values()):
            await client.close()


async def _client(config: ProviderConfig) -> openai.AsyncOpenAI:
    loop = asyncio.get_running_loop()
    with _clients_lock:
        entry = _clients.get(loop)
    if entry is None:
        entry = _LoopClients()
        entry.closer = _closed_at_loop_end(entry.clients)
        # Runs to its `yield` at once (nothing is awaited before it): no other task of this loop comes between.
        await anext(entry.closer)
        with _clients_lock:
            _clients[loop] = entry
    client = entry.clients.get(config)
    if client is None:
        # The SDK's documented aiohttp transport: about a third less CPU per streamed call than httpx's.
        client = openai.AsyncOpenAI(
            base_url=config.base_url or None,
            api_key=config.api_key,
            timeout=config.timeout,
            max_retries=config.max_retries,
            http_client=openai.DefaultAioHttpClient(verify=_ssl_context()),
        )
        entry.clients[config] = client
    return client


def _timed_out(exc: BaseException) -> bool:
    """Whether a timeout the SDK reports is one. The aiohttp transport (the SDK's vendored mapping) turns every
    aiohttp connection error into `httpx2.ConnectTimeout`: a refused or dropped connection is an error."""
    cause = exc.__cause__
    while cause is not None:
        if isinstance(cause, aiohttp.ClientError):
            return isinstance(cause, TimeoutError)
        cause = cause.__cause__
    return True


def prepare(
    *,
    agent: Agent,
    input: str,
    variables: dict | None,
    history: list[Message],
    messages: list[dict] | None = None,
    options: CallOptions | None = None,
    version: PromptVersion | None = None,
) -> PreparedCall:
    """Render the active version (or `version`, e.g. a draft the operator tries out) safely and build
    the messages (see the module docstring).

    Raises AgentUnavailable (no active version), PromptError (missing_variable) or ContextTooLong."""
    version = version or getattr(agent, "active_prompt", None) or active_version(agent=agent)
    if version is None:
        raise AgentUnavailable(detail=f"{agent.name} is not available right now.")
    limit = settings.CONVERSATION_HISTORY_MESSAGES
    recent = history[-limit:] if limit > 0 else []
    earlier = [{"role": message.role, "content": message.content} for message in recent]
    client = [dict(message) for message in messages] if messages else [{"role": "user", "content": input}]
    last_user = max(index for index, message in enumerate(client) if message["role"] == "user")
    client[last_user]["content"] = render(version.template, input=input, variables=variables)
    earlier += client[:last_user]
    system = {"role": "system", "content": version.system_prompt}
    kept = _fit(system=system, earlier=earlier, final=client[last_user:], budget=version.context_tokens)
    return PreparedCall(
        agent=agent,
        version=version,
        provider=resolve_provider(version),
        messages=kept,
        model=version.model,
        input=input,
        options=options or CallOptions(),
    )


def _fit(*, system: dict, earlier: list[dict], final: list[dict], budget: int) -> list[dict]:
    """The system prompt, the caller's system messages, and as many of the latest earlier turns as fit
    `budget` tokens, then the final turn. A turn is a message with the tool results that follow it, so
    no tool result is ever sent without the call it answers."""
    instructions = [message for message in earlier if message["role"] == "system"]
    turns: list[list[dict]] = []
    for message in earlier:
        if message["role"] == "system":
            continue
        if message["role"] == "tool" and turns:
            turns[-1].append(message)
        else:
            turns.append([message])
    used = sum(_message_tokens(message) for message in [system, *instructions, *final])
    if used > budget:
        raise ContextTooLong(
            detail=f"The messages are about {used} tokens; this model takes at most {budget}.",
            extra={"param": "messages"},
        )
    kept: list[dict] = []
    for turn in reversed(turns):
        cost = sum(_message_tokens(message) for message in turn)
        if used + cost > budget:
            break
        used += cost
        kept[:0] = turn
    return [system, *instructions, *kept, *final]


class UpstreamStream:
    """One upstream call: `async for piece in stream` yields the answer's text (`str`) as it arrives and,
    when the call offered tools, `ToolCallDelta` fragments; `tool_calls` and `finish_reason` after it.

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
        self.finish_reason = "stop"
        self._tool_calls: dict[int, dict] = {}
        self._started = time.perf_counter()
        self._ended: float | None = None
        self._first_token_seen = False
        is_demo = call.provider.kind == ProviderKind.DEMO
        self.is_demo = is_demo
        self._deltas = self._demo_deltas() if is_demo else self._openai_deltas()

    def __aiter__(self) -> AsyncIterator[str | ToolCallDelta]:
        return self._deltas

    async def aclose(self) -> None:
        await self._deltas.aclose()

    @property
    def output(self) -> str:
        return "".join(self.parts)

    def _first_token(self) -> None:
        """The time to first token, once per upstream call (text or a tool call, whichever comes first)."""
        self._first_token_seen = True
        metrics.FIRST_TOKEN.labels(metrics.agent_label(self.call.agent), self.call.provider.kind).observe(
            time.perf_counter() - self._started
        )

    @property
    def tool_calls(self) -> list[dict]:
        """The tool calls received so far, in OpenAI's shape, ordered by index."""
        return [self._tool_calls[index] for index in sorted(self._tool_calls)]

    @property
    def delivered(self) -> bool:
        return bool(self.parts or self._tool_calls)

    def completion(self) -> Completion:
        output = self.output
        tool_calls = self.tool_calls
        if self.usage is not None:
            tokens_input, tokens_output = self.usage
        else:
            tokens_input = self.call.estimated_input_tokens
            tokens_output = estimate_tokens(output) + (estimate_tokens(json.dumps(tool_calls)) if tool_calls else 0)
        ended = self._ended if self._ended is not None else time.perf_counter()
        return Completion(
            output=output,
            tokens_input=tokens_input,
            tokens_output=tokens_output,
            latency_ms=int((ended - self._started) * 1000),
            is_demo=self.is_demo,
            tool_calls=tool_calls,
            finish_reason=self.finish_reason,
        )

    async def _openai_deltas(self) -> AsyncIterator[str | ToolCallDelta]:
        """The SDK makes the request (key, retries, status errors); the Server-Sent Events are read here
        as plain JSON, which costs a hundredth of building the SDK's typed chunk for every word."""
        call, provider = self.call, self.call.provider
        loop = asyncio.get_running_loop()
        first_token_deadline = loop.time() + provider.first_token_timeout
        total_deadline = loop.time() + provider.total_timeout
        response = None
        try:
            async with asyncio.timeout_at(min(first_token_deadline, total_deadline)):
                # The SDK's generic `post` (its documented way to any endpoint): the same key, retries and
                # status errors as `chat.completions.create`, without re-validating our own dict (~2 ms).
                response = await (await _client(provider)).post(
                    "/chat/completions",
                    cast_to=httpx2.Response,
                    body={**call.request(), "stream": True, "stream_options": {"include_usage": True}},
                    options={"headers": {RAW_STREAM_HEADER: "stream"}},
                    stream=True,
                )
            events = _server_sent_data(response.aiter_lines())
            while True:
                deadline = total_deadline if self.delivered else min(first_token_deadline, total_deadline)
                async with asyncio.timeout_at(deadline):
                    data = await anext(events, None)
                if data is None:
                    break
                if data == "[DONE]":
                    await _read_to_end(events, min(loop.time() + AFTER_DONE_SECONDS, total_deadline))
                    break
                pieces = self._take(json.loads(data))
                if pieces and not self._first_token_seen:
                    self._first_token()
                for piece in pieces:
                    if isinstance(piece, str):
                        self.parts.append(piece)
                    yield piece
        except (TimeoutError, openai.APITimeoutError, httpx2.TimeoutException) as exc:
            if not _timed_out(exc):
                logger.warning("upstream error agent=%s model=%s: %s", call.agent.pk, call.model, type(exc).__name__)
                raise UpstreamError(detail="The model provider failed to answer.") from None
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
                await response.aclose()
        if not self.delivered:
            raise UpstreamError(detail="The model provider sent an empty answer.")

    def _take(self, chunk: dict) -> list[str | ToolCallDelta]:
        """The text and tool call fragments of one `chat.completion.chunk` (NUL characters dropped: no
        channel nor PostgreSQL can carry them); remembers the finish reason and the usage chunk's
        counts. An `error` object mid-stream is a failure."""
        if chunk.get("error"):
            raise ValueError("the provider reported an error mid-stream")
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            tokens_input, tokens_output = usage.get("prompt_tokens"), usage.get("completion_tokens")
            if isinstance(tokens_input, int) and isinstance(tokens_output, int):
                self.usage = (tokens_input, tokens_output)
        choices = chunk.get("choices") or []
        if not choices:
            return []
        if choices[0].get("finish_reason"):
            self.finish_reason = str(choices[0]["finish_reason"])
        delta = choices[0].get("delta") or {}
        pieces: list[str | ToolCallDelta] = []
        text = delta.get("content")
        if isinstance(text, str) and text:
            pieces.append(text.replace("\x00", ""))
        if self.call.options.tools:
            pieces.extend(self._tool_call_delta(fragment) for fragment in delta.get("tool_calls") or [])
        return [piece for piece in pieces if piece]

    def _tool_call_delta(self, fragment: dict) -> ToolCallDelta:
        """Adds one streamed fragment to the call it belongs to (by `index`) and returns it."""
        index = int(fragment.get("index", len(self._tool_calls)))
        function = fragment.get("function") or {}
        piece = ToolCallDelta(
            index=index, id=fragment.get("id"), name=function.get("name"), arguments=function.get("arguments") or ""
        )
        call = self._tool_calls.setdefault(
            index, {"id": "", "type": "function", "function": {"name": "", "arguments": ""}}
        )
        call["id"] = piece.id or call["id"]
        call["function"]["name"] = piece.name or call["function"]["name"]
        call["function"]["arguments"] += piece.arguments
        return piece

    async def _demo_deltas(self) -> AsyncIterator[str | ToolCallDelta]:
        """Offline, deterministic and clearly labelled, streamed word by word (DEMO_TOKEN_DELAY_MS apart):
        lets the product run end to end, streaming included, without a key."""
        delay = settings.DEMO_TOKEN_DELAY_MS / 1000
        try:
            for word in DEMO_WORD.findall(demo_answer(self.call)):
                if delay and self.parts:
                    await asyncio.sleep(delay)
                if not self._first_token_seen:
                    self._first_token()
                self.parts.append(word)
                yield word
        finally:
            self._ended = time.perf_counter()


async def _read_to_end(events: AsyncIterator[str], deadline: float) -> None:
    """The rest of a body after `[DONE]` (normally only the chunked terminator), read and dropped so the
    connection goes back to the pool; at `deadline`, or on a read error, it is left unread (closing the
    response then closes the connection). The answer is complete either way."""
    with contextlib.suppress(TimeoutError, httpx2.HTTPError):
        async with asyncio.timeout_at(deadline):
            async for _ in events:
                pass


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
    """The demo model calls no tools: it says what it received."""
    question = next(message["content"] for message in reversed(call.messages) if message["role"] == "user")
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
    steps: list[dict] | None = None,
) -> Conversation:
    """Save the user message and the answer (a new conversation if none): two INSERTs for a new
    conversation's first exchange (the conversation is saved first), one statement for the next
    ones, which also moves the conversation's `updated_at` to this exchange (lists order by it).
    `interrupted` marks an answer that stopped early (the client left, the provider failed). `steps` (a tool
    loop's calls and results, OpenAI's message shape) go between the question and the answer."""
    now = timezone.now()
    continued = conversation
    if conversation is None:
        conversation = Conversation.objects.create(
            organization_id=user.organization_id,
            user=user,
            agent=agent,
            channel=channel,
            title=" ".join(input.split())[:80],
        )
    _insert_messages(
        [
            Message(
                conversation=conversation,
                role=MessageRole.USER,
                content=input,
                tokens_input=completion.tokens_input,
                created_at=now,
            ),
            *(
                Message(
                    conversation=conversation,
                    role=step["role"],
                    content=step.get("content") or "",
                    tool_calls=step.get("tool_calls"),
                    tool_call_id=step.get("tool_call_id") or "",
                    created_at=now,
                )
                for step in steps or []
            ),
            Message(
                conversation=conversation,
                role=MessageRole.ASSISTANT,
                content=completion.output,
                tokens_output=completion.tokens_output,
                interrupted=interrupted,
                created_at=now,
            ),
        ],
        touch=continued,
    )
    if continued is not None:
        conversation.updated_at = now
    return conversation


MESSAGE_COLUMNS = (
    "conversation",
    "role",
    "content",
    "interrupted",
    "tokens_input",
    "tokens_output",
    "tool_calls",
    "tool_call_id",
    "created_at",
)


def _insert_messages(messages: list[Message], *, touch: Conversation | None) -> None:
    """Both messages of an exchange in one INSERT statement. bulk_create() would wrap it in a
    transaction of its own: BEGIN and COMMIT are two more round trips on the hottest path.

    `touch` (a continued conversation) gets the messages' time as its `updated_at`: on PostgreSQL
    in the same statement (an UPDATE in a WITH clause), elsewhere in an UPDATE of its own."""
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
    if touch is None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        return
    updated_at = Conversation._meta.get_field("updated_at")
    moment = updated_at.get_db_prep_save(messages[0].created_at, connection)
    touch_sql = (
        f"UPDATE {quote(Conversation._meta.db_table)} SET {quote(updated_at.column)} = %s "  # noqa: S608
        f"WHERE {quote(Conversation._meta.pk.column)} = %s"
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"WITH touched AS ({touch_sql}) {sql}", [moment, touch.pk, *params])
        else:
            cursor.execute(touch_sql, [moment, touch.pk])
            cursor.execute(sql, params)


def exchange_writes(
    *,
    conversation: Conversation | None,
    user,
    agent: Agent,
    channel: str,
    input: str,
    completion: Completion,
    interrupted: bool = False,
) -> tuple[list[Write], Conversation]:
    """`store_exchange` as parts of one combined statement (`botgeneric.one_statement`, PostgreSQL): the
    conversation (created, or its `updated_at` moved to this exchange) named `conversation`, returning
    its id, then both messages. Returns the parts and the conversation as it will be once they ran
    (a new one's id is the statement's result: the caller sets it)."""
    now = timezone.now()
    if conversation is None:
        conversation = Conversation(
            organization_id=user.organization_id,
            user=user,
            agent=agent,
            channel=channel,
            title=" ".join(input.split())[:80],
            created_at=now,
            updated_at=now,
        )
        saved = Write(
            "conversation",
            f"INSERT INTO {Conversation._meta.db_table} "  # noqa: S608
            "(organization_id, user_id, agent_id, channel, title, created_at, updated_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
            [user.organization_id, user.pk, agent.pk, str(channel), conversation.title, now, now],
        )
    else:
        conversation.updated_at = now
        saved = Write(
            "conversation",
            f"UPDATE {Conversation._meta.db_table} SET updated_at = %s WHERE id = %s RETURNING id",  # noqa: S608
            [now, conversation.pk],
        )
    rows = [
        (MessageRole.USER.value, input, False, completion.tokens_input, 0, now),
        (MessageRole.ASSISTANT.value, completion.output, interrupted, 0, completion.tokens_output, now),
    ]
    messages = Write(
        "messages",
        f"INSERT INTO {Message._meta.db_table} "  # noqa: S608
        "(conversation_id, role, content, interrupted, tokens_input, tokens_output, created_at) "
        # A scalar subquery, not a join: a conversation deleted meanwhile gives NULL, which fails the whole
        # statement (nothing charged as saved) instead of silently inserting no messages.
        "SELECT (SELECT id FROM conversation), m.role, m.content, m.interrupted, m.tokens_input, m.tokens_output, "
        "m.created_at FROM (VALUES (%s, %s, %s, %s, %s, %s), (%s, %s, %s, %s, %s, %s)) "
        "AS m(role, content, interrupted, tokens_input, tokens_output, created_at)",
        [value for row in rows for value in row],
    )
    return [saved, messages], conversation
