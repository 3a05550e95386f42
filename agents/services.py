"""The invoke service: the one path every channel (API, web, Telegram, OpenAI-compatible) calls.

decide + render + reserve → the runtime streams the answer → store + settle + UsageEvent. The answer
is an async generator (`invoke_stream`) that each channel only formats; `invoke` collects the same
stream for callers that want the whole answer. No transaction is open during the upstream call: the
reservation is a single UPDATE that commits at once, and the ORM work before the first byte and after
the last runs in a thread (`sync_to_async`), so a stream holds no thread while it waits.
"""

import asyncio
import contextlib
import dataclasses
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.db import DatabaseError, transaction

from agents import runtime
from agents.errors import AgentErrorCode
from agents.models import Agent, Conversation
from agents.selectors import recent_messages
from agents.tool_loop import ToolLoop
from agents.tools import ToolContext, run_tool, schemas
from botgeneric import one_statement
from botgeneric.errors import ApiErrorCode, DomainError
from policy.errors import PolicyDenied
from policy.services import Access, Grant, authorize, check_access
from usage import services as usage_services
from usage.models import Outcome

logger = logging.getLogger(__name__)

# The UsageEvent error code of an answer the client stopped (closed the stream, hung up).
CLIENT_CLOSED = "client_closed"


@dataclass
class InvokeResult:
    output: str
    conversation: Conversation | None  # None when the exchange was not stored (store=False)
    prompt_version: int
    tokens_input: int
    tokens_output: int
    latency_ms: int
    is_demo: bool
    tool_calls: list[dict] = field(default_factory=list)
    finish_reason: str = "stop"


@dataclass(frozen=True)
class TextDelta:
    """The next piece of the answer's text, as the provider sent it."""

    text: str


# A fragment of a tool call the model makes (only when the call offered `tools`): the runtime's event.
ToolCallDelta = runtime.ToolCallDelta


@dataclass(frozen=True)
class StreamDone:
    """The last event of a stream that ended well: the answer is stored and charged."""

    result: InvokeResult


class ConversationMismatch(DomainError):
    code = ApiErrorCode.INVALID
    http_status = 400


class AnswerNotSaved(DomainError):
    """The provider answered (and was paid) but the answer could not be stored."""

    code = AgentErrorCode.ANSWER_NOT_SAVED
    http_status = 500


@dataclass
class Started:
    """A call that is allowed, rendered and reserved (`start`): what streaming and settling it need."""

    user: Any
    channel: str
    input: str
    grant: Grant
    call: runtime.PreparedCall
    conversation: Conversation | None
    store: bool = True
    # The version's built-in tools this call offers the model (run here, in a tool loop).
    tools: list[str] = field(default_factory=list)


async def invoke_stream(
    *,
    user,
    agent: Agent,
    channel: str,
    input: str,
    variables: dict[str, str] | None = None,
    conversation: Conversation | None = None,
    access: Access | None = None,
    messages: list[dict] | None = None,
    options: runtime.CallOptions | None = None,
    store: bool = True,
    tool_context: ToolContext | None = None,
) -> AsyncIterator[TextDelta | ToolCallDelta | StreamDone]:
    """Run `agent` for `user` on `channel`, metered, as a stream: `TextDelta` events (and `ToolCallDelta`
    when `options.tools` were offered), then one `StreamDone`.

    Before the first delta, the first `__anext__` raises PolicyDenied, UpstreamError (502),
    UpstreamTimeout (504), PromptError (missing_variable, 400) — and nothing is charged. A failure after
    the first delta charges what was delivered, stores the partial answer marked interrupted, and raises
    the DomainError from the generator. Closing the generator early (`aclose()`, or cancelling the task
    when the client disconnects) closes the upstream request at once, charges the tokens produced so far
    and stores the partial answer marked interrupted.

    `conversation` continues a conversation the channel already fetched through
    `agents.selectors.access_conversation`; `access` is the decision the API's PolicyPermission made.
    `messages` and `options` go to `runtime.prepare` (the caller's whole conversation, `input` being its
    last user message; sampling parameters and tools). With `store=False` nothing is written but the
    metering (the OpenAI-compatible endpoint is stateless unless the client asks to store).

    When the prompt version lists built-in tools (and the caller offers none of its own), the model may
    call them: they run here (`agents.tools`, for `tool_context`, by default the caller's organization and
    conversation), their results go back to the model, at most TOOL_LOOP_MAX_ROUNDS rounds, each round's
    tokens charged to this one request; the calls and results are stored as messages of the exchange.
    """
    started = await _start_shielded(
        user=user,
        agent=agent,
        channel=channel,
        input=input,
        variables=variables,
        conversation=conversation,
        access=access,
        messages=messages,
        options=options,
        store=store,
    )
    async with contextlib.aclosing(stream_started(started, tool_context=tool_context)) as events:
        async for event in events:
            yield event


async def stream_started(
    started: Started, *, tool_context: ToolContext | None = None
) -> AsyncIterator[TextDelta | ToolCallDelta | StreamDone]:
    """`invoke_stream` for a call `start` already allowed and reserved (in the caller's own trip to a
    thread, with its other reads): the same events, failures, charging and closing. A caller that got a
    `Started` and will not stream it (it was cancelled meanwhile) gives it back with `release_started`."""
    user, channel, input = started.user, started.channel, started.input
    settle = sync_to_async(_settle)
    upstream = _upstream(started=started, user=user, tool_context=tool_context)
    try:
        async for piece in upstream:
            yield TextDelta(piece) if isinstance(piece, str) else piece
    except DomainError as failure:
        if upstream.delivered:
            await _shielded(
                settle(started=started, user=user, channel=channel, input=input, upstream=upstream, failure=failure)
            )
        else:
            await _shielded(
                sync_to_async(_record_failure)(started=started, user=user, channel=channel, failure=failure)
            )
        raise
    except BaseException:
        # aclose() (GeneratorExit at the yield) or the client's disconnect (CancelledError in the upstream
        # read): stop the provider first, then charge what it produced.
        await upstream.aclose()
        await _shielded(
            settle(started=started, user=user, channel=channel, input=input, upstream=upstream, closed=True)
        )
        raise
    result = await _shielded(settle(started=started, user=user, channel=channel, input=input, upstream=upstream))
    yield StreamDone(result)


def invoke(
    *,
    user,
    agent: Agent,
    channel: str,
    input: str,
    variables: dict[str, str] | None = None,
    conversation: Conversation | None = None,
    access: Access | None = None,
    messages: list[dict] | None = None,
    options: runtime.CallOptions | None = None,
    store: bool = True,
) -> InvokeResult:
    """`invoke_stream` collected: the whole answer at once, for synchronous callers. Raises as
    `invoke_stream` does (PolicyDenied, UpstreamError, UpstreamTimeout, PromptError)."""
    return async_to_sync(_collect)(
        user=user,
        agent=agent,
        channel=channel,
        input=input,
        variables=variables,
        conversation=conversation,
        access=access,
        messages=messages,
        options=options,
        store=store,
    )


async def _collect(**kwargs) -> InvokeResult:
    async for event in invoke_stream(**kwargs):
        if isinstance(event, StreamDone):
            return event.result
    raise RuntimeError("invoke_stream ended without StreamDone")


async def _shielded(awaitable: Awaitable):
    """Run settling work to its end even when the task awaiting it is cancelled (the client left)."""
    return await asyncio.shield(awaitable)


async def undone_if_cancelled(work: Callable[[], Any], undo: Callable[[Any], None], failures=(Exception,)) -> Any:
    """`work()` in a thread. If the caller is cancelled meanwhile, `work` still runs to its end and
    `undo(its result)` gives back what it made (a reservation), so a client that hangs up early leaves
    nothing behind; a `work` that failed with one of `failures` made nothing to give back."""
    task = asyncio.ensure_future(sync_to_async(work)())
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(*failures):
            await sync_to_async(undo)(await task)
        raise


async def _start_shielded(**kwargs) -> Started:
    """`start` in a thread, its reservation given back if the caller is cancelled meanwhile."""
    return await undone_if_cancelled(functools.partial(start, **kwargs), release_started, failures=(DomainError,))


def start(
    *,
    user,
    agent: Agent,
    channel: str,
    input: str,
    variables: dict[str, str] | None = None,
    conversation: Conversation | None = None,
    access: Access | None = None,
    messages: list[dict] | None = None,
    options: runtime.CallOptions | None = None,
    store: bool = True,
) -> Started:
    """Everything before the first byte: decide (SPEC §5 order), render the prompt, reserve one request,
    the whole prompt's token estimate and the most output the call may produce (the version's max_tokens,
    or less if the caller asked for less). Each refusal or failure is metered (nothing charged) and raised."""
    if conversation is not None and conversation.agent_id != agent.pk:
        raise ConversationMismatch(
            detail="This conversation belongs to another agent.",
            extra={"fields": {"conversation_id": ["This conversation belongs to another agent."]}},
        )
    try:
        access = access or check_access(user=user, agent=agent, channel=channel)
    except PolicyDenied as denied:
        _record_denial(user=user, agent=agent, channel=channel, denied=denied)
        raise
    try:
        call = runtime.prepare(
            agent=agent,
            input=input,
            variables=variables,
            history=_history(conversation),
            messages=messages,
            options=options,
        )
    except DomainError as failure:
        logger.info("invoke failed org=%s agent=%s code=%s", user.organization_id, agent.pk, failure.code)
        usage_services.record_event(
            user=user, agent=agent, channel=channel, outcome=Outcome.ERROR, error_code=failure.code
        )
        raise
    tools = [] if call.options.tools else list(call.version.tools or [])
    if tools:
        call = dataclasses.replace(call, options=dataclasses.replace(call.options, tools=schemas(tools)))
    try:
        grant = authorize(
            user=user,
            agent=agent,
            channel=channel,
            meta={"tokens_input": call.estimated_input_tokens, "tokens_output": call.max_output_tokens},
            access=access,
        )
    except PolicyDenied as denied:
        _record_denial(user=user, agent=agent, channel=channel, denied=denied)
        raise
    release_connection()
    return Started(
        user=user,
        channel=channel,
        input=input,
        grant=grant,
        call=call,
        conversation=conversation,
        store=store,
        tools=tools,
    )


def _upstream(*, started: Started, user, tool_context: ToolContext | None) -> runtime.UpstreamStream | ToolLoop:
    if not started.tools:
        return runtime.UpstreamStream(started.call)
    context = tool_context or ToolContext(
        organization_id=user.organization_id, user=user, conversation=started.conversation
    )

    async def run_tools(calls: list[dict]) -> list[dict]:
        return await sync_to_async(_run_tools)(calls=calls, context=context, allowed=started.tools)

    return ToolLoop(started.call, run_tools=run_tools, max_rounds=settings.TOOL_LOOP_MAX_ROUNDS)


def _run_tools(*, calls: list[dict], context: ToolContext, allowed: list[str]) -> list[dict]:
    """Each call's result as a `tool` message; a failing tool's is an error the model reads."""
    results = []
    for call in calls:
        function = call.get("function") or {}
        content, succeeded = run_tool(
            name=function.get("name", ""), arguments=function.get("arguments", ""), context=context, allowed=allowed
        )
        logger.info("tool %s org=%s ok=%s", function.get("name"), context.organization_id, succeeded)
        results.append({"role": "tool", "tool_call_id": call.get("id", ""), "content": content})
    release_connection()
    return results


def _record_denial(*, user, agent: Agent, channel: str, denied: PolicyDenied) -> None:
    usage_services.record_event(user=user, agent=agent, channel=channel, outcome=Outcome.DENIED, error_code=denied.code)


def _settle(
    *,
    started: Started,
    user,
    channel: str,
    input: str,
    upstream: runtime.UpstreamStream,
    failure: DomainError | None = None,
    closed: bool = False,
) -> InvokeResult:
    """Store the answer (marked interrupted when it stopped early) and charge what was delivered: the
    provider's usage counts, else estimates of the prompt and of the text produced.

    On PostgreSQL the exchange, the settle and the usage event are one statement (one round trip,
    all-or-nothing: a process that dies after it answered has charged and recorded what it answered).
    Elsewhere, or when that statement fails, three single-statement writes with no wrapping transaction:
    the call is charged even when storing the answer fails (the provider was paid for it); that raises
    AnswerNotSaved once the call is metered.
    """
    call, grant = started.call, started.grant
    completion = upstream.completion()
    interrupted = failure is not None or closed
    conversation = started.conversation
    store = bool(completion.output and started.store)
    metered = {
        "settle": dict(
            account=grant.account,
            period_start=grant.period_start,
            reserved_tokens_input=grant.reserved_tokens_input,
            reserved_tokens_output=grant.reserved_tokens_output,
            tokens_input=completion.tokens_input,
            tokens_output=completion.tokens_output,
        ),
        "event": dict(
            user=user,
            agent=call.agent,
            channel=channel,
            outcome=Outcome.ERROR if failure is not None else Outcome.OK,
            error_code=failure.code if failure is not None else (CLIENT_CLOSED if closed else ""),
            prompt_version=call.version,
            model="demo" if completion.is_demo else call.model,
            tokens_input=completion.tokens_input,
            tokens_output=completion.tokens_output,
            latency_ms=completion.latency_ms,
        ),
    }
    exchange = dict(
        conversation=conversation,
        user=user,
        agent=call.agent,
        channel=channel,
        input=input,
        completion=completion,
        interrupted=interrupted,
        steps=getattr(upstream, "steps", None),
    )
    together = _store_and_charge_together(exchange=exchange if store else None, metered=metered)
    not_saved = False
    if together is not None:
        conversation = together if store else conversation
    else:
        if store:
            try:
                conversation = _store(exchange=exchange)
            except DatabaseError:
                logger.exception("answer not saved org=%s agent=%s", user.organization_id, call.agent.pk)
                not_saved = True
                failure = failure or AnswerNotSaved(detail="The answer could not be saved; please try again.")
                metered["event"].update(outcome=Outcome.ERROR, error_code=failure.code)
        usage_services.settle(**metered["settle"])
        usage_services.record_event(**metered["event"])
    release_connection()
    if not_saved:
        raise failure
    if interrupted:
        logger.info(
            "invoke interrupted org=%s agent=%s code=%s chars=%d",
            user.organization_id,
            call.agent.pk,
            failure.code if failure is not None else CLIENT_CLOSED,
            len(completion.output),
        )
    return InvokeResult(
        output=completion.output,
        conversation=conversation,
        prompt_version=call.version.version,
        tokens_input=completion.tokens_input,
        tokens_output=completion.tokens_output,
        latency_ms=completion.latency_ms,
        is_demo=completion.is_demo,
        tool_calls=completion.tool_calls,
        finish_reason=completion.finish_reason,
    )


def _store_and_charge_together(*, exchange: dict | None, metered: dict) -> Conversation | bool | None:
    """The exchange (when there is one to store), the settle and the usage event in one statement, on
    PostgreSQL. Returns the stored conversation (True when nothing was to be stored), or None when the
    statement cannot be used or failed (nothing of it was written): the caller then writes one by one.
    In a savepoint when a caller's transaction is open, so that a failure leaves it usable."""
    if not one_statement.supported() or (exchange is not None and exchange.get("steps")):
        return None  # a tool loop's steps are stored by `runtime.store_exchange`, one by one
    writes = [usage_services.settle_write(**metered["settle"]), usage_services.event_write(**metered["event"])]
    conversation = None
    if exchange is not None:
        parts, conversation = runtime.exchange_writes(**{k: v for k, v in exchange.items() if k != "steps"})
        writes = parts + writes
    try:
        with transaction.atomic() if transaction.get_connection().in_atomic_block else contextlib.nullcontext():
            row = one_statement.run_together(writes, select="SELECT id FROM conversation" if exchange else "SELECT 1")
    except DatabaseError:
        logger.warning("combined settle failed, writing one by one", exc_info=True)
        return None
    if conversation is None:
        return True
    if conversation.pk is None:
        conversation.pk = row[0]
        conversation._state.adding = False
    return conversation


def _store(*, exchange: dict) -> Conversation:
    """The exchange, in a savepoint when a caller's transaction is open, so that a failed INSERT
    leaves that transaction usable for charging the call."""
    in_transaction = transaction.get_connection().in_atomic_block
    with transaction.atomic() if in_transaction else contextlib.nullcontext():
        return runtime.store_exchange(**exchange)


def start_conversation(*, user, agent: Agent, channel: str, title: str) -> Conversation:
    """An empty conversation to answer into, for a channel that must name it before the answer (the
    Responses API's id). `discard_unanswered` removes it again if the call fails before any answer."""
    title = " ".join(title.split())[:80]
    return Conversation.objects.create(
        organization_id=user.organization_id, user=user, agent=agent, channel=channel, title=title
    )


def discard_unanswered(*, conversation: Conversation) -> None:
    """Delete a conversation `start_conversation` made if nothing was stored in it."""
    Conversation.objects.filter(pk=conversation.pk, messages__isnull=True).delete()


def release_connection() -> None:
    """Hand the database connection back after each piece of ORM work around a stream, so N answers in
    flight (and N requests waiting for their next turn on the event loop) need a pool's few connections,
    not N: with a connection pool, or when connections are not kept between requests anyway
    (CONN_MAX_AGE 0, as under the ASGI server, where each request has its own thread).
    Not inside a transaction (a caller's atomic block, or a test's), and not with persistent
    connections: reconnecting would cost more than it saves."""
    connection = transaction.get_connection()
    pooled = connection.settings_dict.get("OPTIONS", {}).get("pool")
    if connection.in_atomic_block or not (pooled or connection.settings_dict.get("CONN_MAX_AGE") == 0):
        return
    connection.close()


def _history(conversation: Conversation | None) -> list:
    if conversation is None:
        return []
    preloaded = getattr(conversation, "recent_messages", None)
    if preloaded is not None:
        return preloaded
    return recent_messages(conversation=conversation, limit=settings.CONVERSATION_HISTORY_MESSAGES)


def release_started(started: Started) -> None:
    """Give back the reservation of a call that was started and will not be streamed."""
    grant = started.grant
    usage_services.release(
        account=grant.account,
        period_start=grant.period_start,
        reserved_requests=grant.reserved_requests,
        reserved_tokens_input=grant.reserved_tokens_input,
        reserved_tokens_output=grant.reserved_tokens_output,
    )


def _record_failure(*, started: Started, user, channel: str, failure: DomainError) -> None:
    """Release the reservation and meter the failure; the customer is not charged for it. One statement
    on PostgreSQL (both or neither), a transaction of two elsewhere."""
    call, grant = started.call, started.grant
    logger.info("invoke failed org=%s agent=%s code=%s", user.organization_id, call.agent.pk, failure.code)
    released = dict(
        account=grant.account,
        period_start=grant.period_start,
        reserved_requests=grant.reserved_requests,
        reserved_tokens_input=grant.reserved_tokens_input,
        reserved_tokens_output=grant.reserved_tokens_output,
    )
    event = dict(
        user=user,
        agent=call.agent,
        channel=channel,
        outcome=Outcome.ERROR,
        error_code=failure.code,
        prompt_version=call.version,
        model=call.model,
    )
    if one_statement.supported():
        one_statement.run_together([usage_services.release_write(**released), usage_services.event_write(**event)])
    else:
        with transaction.atomic():
            usage_services.release(**released)
            usage_services.record_event(**event)
    release_connection()
