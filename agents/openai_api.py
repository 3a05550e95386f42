"""The OpenAI-compatible channel (SPEC §7): any OpenAI client library can call an agent.

`model` names the agent by slug; the client's messages follow the agent's own prompt (the last user
message goes through its template); parameters and tools reach the provider, and tool calls come back.
Everything else — who may call what, quotas, metering — is `agents.services.invoke_stream` on channel
`api`, exactly as for the REST API; this module only translates the wire format both ways, errors
included. Stateless like OpenAI's: the exchange is stored only with `store: true` or a
`metadata.conversation_id` to continue.
"""

import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.errors import AgentErrorCode
from agents.models import Agent, Conversation
from agents.openai_plain_input import FastChatCompletionInput, FastResponsesInput
from agents.openai_requests import ChatCompletionInput, ResponsesInput
from agents.openai_responses import ResponseShape, new_response_id, response_events
from agents.selectors import access_conversation, agent_by_slug, with_active_prompt
from agents.services import (
    InvokeResult,
    Started,
    StreamDone,
    TextDelta,
    ToolCallDelta,
    discard_unanswered,
    release_started,
    start,
    start_conversation,
    stream_started,
)
from agents.streaming import AsyncAPIView, event_stream_response, with_keepalives
from botgeneric.channels import Channel
from botgeneric.errors import DomainError
from botgeneric.openapi import ERROR_EXTRAS
from policy.errors import DenyCode, PolicyDenied
from policy.headroom import headroom
from policy.selectors import agents_for
from policy.services import Grant, check_access
from prompts.models import LockableParameter
from tenants.authentication import BearerApiKeyAuthentication
from tenants.permissions import ApiKeyScopes
from usage.models import Outcome
from usage.services import record_event

OWNER = "bot-generic"
# What the OpenAI SDKs and their users switch on: the error `type` per HTTP status.
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "invalid_request_error",
    405: "invalid_request_error",
    415: "invalid_request_error",
    429: "rate_limit_error",
}


class ModelNotFound(DomainError):
    code = AgentErrorCode.MODEL_NOT_FOUND
    http_status = 404


def _model_not_found(slug: str) -> ModelNotFound:
    return ModelNotFound(detail=f"The model `{slug}` does not exist or you do not have access to it.")


def openai_exception_handler(exc, context):
    """Every error as `{"error": {"message", "type", "code", "param"}}` with the status the SDKs map to classes."""
    headers = {}
    if isinstance(exc, DomainError):
        status, code, message, extra = exc.http_status, exc.code, str(exc.detail), dict(exc.extra)
        if code == DenyCode.AGENT_NOT_FOUND:
            status, code = 404, ModelNotFound.code
        param = extra.pop("param", "model" if code == ModelNotFound.code else None)
        if code == DenyCode.QUOTA_EXCEEDED:
            headers["x-should-retry"] = "false"  # the quota resets with the period, not in seconds
    elif isinstance(exc, exceptions.ValidationError):
        status, code, extra = 400, AgentErrorCode.INVALID_REQUEST_ERROR.value, {}
        param, message = _first_field_error(exc.detail)
    elif isinstance(exc, exceptions.APIException):
        status, message, extra, param = exc.status_code, str(exc.detail), {}, None
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        if isinstance(exc, exceptions.NotAuthenticated):
            code, message = "invalid_api_key", "Send your API key as `Authorization: Bearer <key>`."
    else:
        return None
    if extra.get("retry_after") is not None:
        headers["Retry-After"] = str(int(extra["retry_after"]))
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    error_type = ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    body = {"error": {"message": message, "type": error_type, "code": code, "param": param, **extra}}
    return Response(body, status=status, headers=headers)


def _first_field_error(detail, path: str = "") -> tuple[str | None, str]:
    """OpenAI reports one problem with the offending parameter in `param` (`messages[2].content`)."""
    if isinstance(detail, dict) and detail:
        field, value = next(iter(detail.items()))
        if isinstance(field, int):  # a list's errors by index
            name = f"{path}[{field}]"
        else:
            name = path if field == "non_field_errors" else (f"{path}.{field}" if path else str(field))
        return _first_field_error(value, name)
    if isinstance(detail, list):
        for index, item in enumerate(detail):
            if item:
                return _first_field_error(item, f"{path}[{index}]" if isinstance(item, dict | list) else path)
    return (path or None), f"{path}: {detail}" if path else str(detail)


class AnyAcceptContentNegotiation(DefaultContentNegotiation):
    """OpenAI clients send `Accept: text/event-stream` or `*/*` alike; the answer's format is ours to pick."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class OpenAIView(APIView):
    authentication_classes = [BearerApiKeyAuthentication]
    permission_classes = [IsAuthenticated, ApiKeyScopes]
    content_negotiation_class = AnyAcceptContentNegotiation

    def get_exception_handler(self):
        return openai_exception_handler


class AsyncOpenAIView(AsyncAPIView, OpenAIView):
    def abandon(self, prepared: "PreparedRequest") -> None:
        """The client left before the answer began: give the reservation back, drop the conversation made."""
        release_started(prepared.started)
        if prepared.made_conversation is not None:
            discard_unanswered(conversation=prepared.made_conversation)


# Response shapes (the request ones are in agents.openai_requests).


ErrorObject = inline_serializer(
    name="OpenAIError",
    fields={
        "error": inline_serializer(
            name="OpenAIErrorDetail",
            fields={
                "message": serializers.CharField(),
                "type": serializers.CharField(),
                "code": serializers.CharField(allow_null=True),
                "param": serializers.CharField(allow_null=True),
                **{name: field for name, field in ERROR_EXTRAS.items() if name != "fields"},
            },
        )
    },
)
OPENAI_ERRORS = {
    status: OpenApiResponse(ErrorObject, description=description)
    for status, description in [
        (400, "invalid_request_error"),
        (401, "invalid_api_key"),
        (402, "no_subscription / subscription_inactive"),
        (403, "agent_not_in_plan / channel_not_allowed / user_inactive"),
        (404, "model_not_found"),
        (429, "rate_limited (Retry-After) / quota_exceeded"),
        (502, "upstream_error"),
        (504, "upstream_timeout"),
    ]
}

ChatCompletionOutput = inline_serializer(
    name="ChatCompletion",
    fields={
        "id": serializers.CharField(),
        "object": serializers.CharField(default="chat.completion"),
        "created": serializers.IntegerField(),
        "model": serializers.CharField(),
        "system_fingerprint": serializers.CharField(allow_null=True),
        "choices": inline_serializer(
            name="ChatCompletionChoice",
            many=True,
            fields={
                "index": serializers.IntegerField(),
                "message": inline_serializer(
                    name="ChatCompletionMessage",
                    fields={
                        "role": serializers.CharField(),
                        "content": serializers.CharField(allow_null=True, help_text="null when the model calls tools"),
                        "refusal": serializers.CharField(allow_null=True),
                        "tool_calls": serializers.ListField(child=serializers.DictField(), required=False),
                    },
                ),
                "finish_reason": serializers.CharField(),
                "logprobs": serializers.JSONField(allow_null=True),
            },
        ),
        "usage": inline_serializer(
            name="CompletionUsage",
            fields={
                "prompt_tokens": serializers.IntegerField(),
                "completion_tokens": serializers.IntegerField(),
                "total_tokens": serializers.IntegerField(),
            },
        ),
        "metadata": serializers.DictField(
            required=False, help_text="`conversation_id` of the stored conversation (with store or a conversation_id)."
        ),
    },
)


class ModelFeatures(serializers.Serializer):
    streaming = serializers.BooleanField()
    tools = serializers.BooleanField(help_text="`tools` may be sent (the operator has not locked them).")
    json_output = serializers.BooleanField(help_text="`response_format` / `text.format` may be sent.")
    audio = serializers.BooleanField(help_text="Audio in or out: not on this API.")


class OpenAIModel(serializers.Serializer):
    """OpenAI's model entry; the fields after `owned_by` are ours, and clients that do not know them ignore them."""

    id = serializers.CharField(help_text="The agent's slug: pass it as `model`.")
    object = serializers.CharField(default="model")
    created = serializers.IntegerField()
    owned_by = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    features = ModelFeatures()
    context_tokens = serializers.IntegerField(allow_null=True, help_text="The most prompt tokens sent to the model.")
    max_output_tokens = serializers.IntegerField(allow_null=True, help_text="The longest answer.")


class OpenAIModelList(serializers.Serializer):
    object = serializers.CharField(default="list")
    data = OpenAIModel(many=True)


def _usage(result) -> dict:
    return {
        "prompt_tokens": result.tokens_input,
        "completion_tokens": result.tokens_output,
        "total_tokens": result.tokens_input + result.tokens_output,
    }


def _model(agent: Agent) -> dict:
    """An agent as a model entry; `agent.active_prompt` joined (with_active_prompt)."""
    version = agent.active_prompt
    locked = set(version.locked_parameters or []) if version is not None else set()
    return {
        "id": agent.slug,
        "object": "model",
        "created": int(agent.created_at.timestamp()),
        "owned_by": OWNER,
        "name": agent.name,
        "description": agent.description,
        "features": {
            "streaming": True,
            "tools": LockableParameter.TOOLS not in locked,
            "json_output": LockableParameter.RESPONSE_FORMAT not in locked,
            "audio": False,
        },
        "context_tokens": version.context_tokens if version is not None else None,
        "max_output_tokens": version.max_tokens if version is not None else None,
    }


@dataclass
class PreparedRequest:
    data: Any
    agent: Agent
    started: Started
    # The conversation made for this request (the Responses API names it before the answer), if any.
    made_conversation: Conversation | None = None


def prepared_request(request, data, *, name_conversation: bool = False) -> PreparedRequest:
    """Validate the body, find the agent (its active prompt joined), decide access (a refusal is metered,
    as the REST API's PolicyPermission does), refuse locked parameters, fetch the stored conversation to
    continue (the caller's own only, 404 otherwise), then start the call — render, reserve — all in the
    view's one trip to a thread. `name_conversation`: a call that keeps its exchange gets its conversation
    made first (removed again if the call is refused)."""
    data.is_valid(raise_exception=True)
    slug = data.validated_data["model"]
    agent = agent_by_slug(slug=slug)
    if agent is None:
        raise _model_not_found(slug)
    try:
        access = check_access(user=request.user, agent=agent, channel=Channel.API)
    except PolicyDenied as denied:
        record_event(
            user=request.user, agent=agent, channel=Channel.API, outcome=Outcome.DENIED, error_code=denied.code
        )
        raise
    if agent.active_prompt is not None:
        data.check_locks(agent.active_prompt)
    conversation = made = None
    if data.conversation_id is not None:
        conversation = access_conversation(
            user=request.user, conversation_id=data.conversation_id, history=settings.CONVERSATION_HISTORY_MESSAGES
        )
    elif name_conversation and data.keeps_exchange:
        conversation = made = start_conversation(
            user=request.user, agent=agent, channel=Channel.API, title=data.agent_input
        )
    try:
        started = start(
            user=request.user,
            agent=agent,
            channel=Channel.API,
            input=data.agent_input,
            conversation=conversation,
            access=access,
            messages=data.wire_messages,
            options=data.options,
            store=data.keeps_exchange,
        )
    except DomainError:
        if made is not None:
            discard_unanswered(conversation=made)
        raise
    return PreparedRequest(data=data, agent=agent, started=started, made_conversation=made)


def _duration(seconds: int) -> str:
    """OpenAI's reset format: `17s`, `6m0s`, `50h3m12s`."""
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{seconds}s"
    return f"{minutes}m{seconds}s" if minutes else f"{seconds}s"


def _ratelimit_headers(grant: Grant, result: InvokeResult | None = None) -> dict[str, str]:
    """`x-ratelimit-{limit,remaining,reset}-{requests,tokens}` from the rate limit and the plan's quota,
    as they stand once this call is counted (with its real token counts once it is `result`); a pair is
    left out when it is unlimited."""
    tokens = (result.tokens_input, result.tokens_output) if result is not None else None
    rooms = headroom(grant=grant, tokens=tokens)
    headers = {}
    for metric, room in (("requests", rooms.requests), ("tokens", rooms.tokens)):
        if room is not None:
            headers[f"x-ratelimit-limit-{metric}"] = str(room.limit)
            headers[f"x-ratelimit-remaining-{metric}"] = str(room.remaining)
            headers[f"x-ratelimit-reset-{metric}"] = _duration(room.reset_seconds)
    return headers


class ChatCompletionsView(AsyncOpenAIView):
    @extend_schema(
        operation_id="openai_chat_completions",
        tags=["openai"],
        description="OpenAI's Chat Completions: `model` is an agent's slug; the messages follow the agent's own "
        "prompt. Stored as a conversation only with `store: true` or `metadata.conversation_id`.",
        request=ChatCompletionInput,
        responses={
            (200, "application/json"): ChatCompletionOutput,
            (200, "text/event-stream"): OpenApiResponse(
                OpenApiTypes.STR,
                description="With `stream: true`: one chat.completion.chunk per piece of the answer as the model "
                "writes it, a stop chunk, the usage chunk with `stream_options.include_usage`, then `data: [DONE]`; "
                "`: keep-alive` comments while the model is silent. A failure after the first chunk ends the "
                "stream with an `error` object.",
            ),
            **OPENAI_ERRORS,
        },
    )
    async def post(self, request, prepared: PreparedRequest):
        data, grant = prepared.data, prepared.started.grant
        stream = stream_started(prepared.started)
        first = await anext(stream)  # refusals and failures before the answer starts raise here
        completion_id, created, slug = f"chatcmpl-{uuid.uuid4().hex}", int(time.time()), data.validated_data["model"]
        if data.validated_data["stream"]:
            include_usage = bool((data.validated_data.get("stream_options") or {}).get("include_usage"))
            chunks = _chunks(first, stream, _ChunkShape(completion_id, created, slug), include_usage=include_usage)
            response = await event_stream_response(request, chunks)
            for name, value in _ratelimit_headers(grant).items():
                response[name] = value
            return response
        async for event in stream:
            first = event
        result = first.result
        message = {"role": "assistant", "content": result.output or None, "refusal": None}
        if result.tool_calls:
            message["tool_calls"] = result.tool_calls
        body = {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": slug,
            "system_fingerprint": None,
            "choices": [{"index": 0, "message": message, "finish_reason": result.finish_reason, "logprobs": None}],
            "usage": _usage(result),
        }
        if result.conversation is not None:
            body["metadata"] = {"conversation_id": str(result.conversation.pk)}
        return Response(body, headers=_ratelimit_headers(grant, result))

    def prepare(self, request) -> PreparedRequest:
        return prepared_request(request, FastChatCompletionInput(data=request.data))


ResponseObject = inline_serializer(
    name="OpenAIResponse",
    fields={
        "id": serializers.CharField(help_text="Pass it as `previous_response_id` to continue (stored responses)."),
        "object": serializers.CharField(default="response"),
        "created_at": serializers.IntegerField(),
        "status": serializers.ChoiceField(choices=["completed", "incomplete", "failed", "in_progress"]),
        "model": serializers.CharField(),
        "output": serializers.ListField(child=serializers.DictField()),
        "usage": serializers.DictField(allow_null=True),
        "error": serializers.DictField(allow_null=True),
    },
)


class ResponsesView(AsyncOpenAIView):
    @extend_schema(
        operation_id="openai_responses",
        tags=["openai"],
        description="OpenAI's Responses API for text: `input` a string or messages, `instructions`, "
        "`previous_response_id` to continue a stored response (responses are stored unless `store: false`).",
        request=ResponsesInput,
        responses={
            (200, "application/json"): ResponseObject,
            (200, "text/event-stream"): OpenApiResponse(
                OpenApiTypes.STR,
                description="With `stream: true`: response.created, response.in_progress, "
                "response.output_item.added, response.content_part.added, response.output_text.delta (one per "
                "piece of text), response.output_text.done, response.content_part.done, response.output_item.done, "
                "response.completed (with usage); a failure midway sends `error` then response.failed.",
            ),
            **OPENAI_ERRORS,
        },
    )
    async def post(self, request, prepared: PreparedRequest):
        data, agent, started = prepared.data, prepared.agent, prepared.started
        stream = stream_started(started)
        try:
            first = await anext(stream)  # failures before the answer starts raise here
        except DomainError:
            if prepared.made_conversation is not None:
                await sync_to_async(discard_unanswered)(conversation=prepared.made_conversation)
            raise
        conversation = started.conversation
        response_id = new_response_id(conversation.pk if conversation is not None else None)
        shape = ResponseShape(
            response_id=response_id, model=agent.slug, data=data.validated_data, store=data.keeps_exchange
        )
        if data.validated_data["stream"]:
            response = await event_stream_response(request, response_events(first, stream, shape))
            for name, value in _ratelimit_headers(started.grant).items():
                response[name] = value
            return response
        async for event in stream:
            first = event
        body = shape.response(status="completed", result=first.result)
        return Response(body, headers=_ratelimit_headers(started.grant, first.result))

    def prepare(self, request) -> PreparedRequest:
        return prepared_request(request, FastResponsesInput(data=request.data), name_conversation=True)


class _ChunkShape:
    """The fields every chunk of one completion repeats."""

    def __init__(self, completion_id: str, created: int, model: str):
        self.base = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model}

    def choice(self, delta: dict, finish_reason: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}
        return _data({**self.base, "system_fingerprint": None, "choices": [choice]})

    def usage(self, result: InvokeResult) -> str:
        return _data({**self.base, "system_fingerprint": None, "choices": [], "usage": _usage(result)})


def _data(payload: dict) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"


def _delta(event: TextDelta | ToolCallDelta) -> dict:
    if isinstance(event, TextDelta):
        return {"content": event.text}
    call: dict = {"index": event.index}
    if event.id:
        call.update(id=event.id, type="function")
    call["function"] = (
        {"name": event.name, "arguments": event.arguments} if event.name else {"arguments": event.arguments}
    )
    return {"tool_calls": [call]}


async def _chunks(
    first: TextDelta | ToolCallDelta, stream: AsyncIterator, shape: _ChunkShape, *, include_usage: bool
) -> AsyncIterator[str]:
    """Each delta (text or a tool call fragment) as its own chunk as it arrives (the first one carries the
    role), the finish chunk, the usage chunk when asked for, `[DONE]`. A failure midway ends the stream
    with OpenAI's error object."""
    yield shape.choice({"role": "assistant", **_delta(first)})
    try:
        async for event in with_keepalives(stream):
            if event is None:
                yield ": keep-alive\n\n"
            elif isinstance(event, TextDelta | ToolCallDelta):
                yield shape.choice(_delta(event))
            elif isinstance(event, StreamDone):
                yield shape.choice({}, event.result.finish_reason)
                if include_usage:
                    yield shape.usage(event.result)
    except DomainError as failure:
        error = {"message": str(failure.detail), "type": "api_error", "code": failure.code, "param": None}
        yield _data({"error": error})
        return
    yield "data: [DONE]\n\n"


class ModelListView(OpenAIView):
    @extend_schema(
        operation_id="openai_models_list", tags=["openai"], responses={200: OpenAIModelList, **OPENAI_ERRORS}
    )
    def get(self, request):
        agents = agents_for(user=request.user, channel=Channel.API)
        return Response({"object": "list", "data": [_model(agent) for agent in with_active_prompt(agents)]})


class ModelDetailView(OpenAIView):
    @extend_schema(
        operation_id="openai_models_retrieve", tags=["openai"], responses={200: OpenAIModel, **OPENAI_ERRORS}
    )
    def get(self, request, model: str):
        agent = with_active_prompt(agents_for(user=request.user, channel=Channel.API).filter(slug=model)).first()
        if agent is None:
            raise _model_not_found(model)
        return Response(_model(agent))
