"""The OpenAI-compatible channel (SPEC §7): any OpenAI client library can call an agent.

`model` names the agent by slug and the last user message is the input. Everything else — who may call
what, quotas, metering — is `agents.services.invoke` on channel `api`, exactly as for the REST API; this
module only translates the wire format both ways, errors included.
"""

import json
import time
import uuid

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.models import Agent, Channel
from agents.selectors import with_active_prompt
from agents.services import invoke
from botgeneric.errors import DomainError
from policy.errors import DenyCode
from policy.selectors import agents_for
from tenants.authentication import BearerApiKeyAuthentication

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
    code = "model_not_found"
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
        status, code, extra = 400, "invalid_request_error", {}
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
    if isinstance(detail, dict):
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
    permission_classes = [IsAuthenticated]
    content_negotiation_class = AnyAcceptContentNegotiation

    def get_exception_handler(self):
        return openai_exception_handler


# Request and response shapes (the subset of OpenAI's Chat Completions API an agent can honour).


class ChatMessage(serializers.Serializer):
    role = serializers.ChoiceField(choices=["system", "developer", "user", "assistant", "tool", "function"])
    content = serializers.JSONField(required=False, allow_null=True, default="")

    def validate_content(self, content):
        """A string, or a list of parts of which only `text` parts can reach a prompt template."""
        if content is None or isinstance(content, str):
            return content or ""
        if not isinstance(content, list):
            raise serializers.ValidationError("must be a string or a list of content parts")
        texts = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                raise serializers.ValidationError("only text content parts are supported")
            texts.append(part["text"])
        return "\n".join(texts)


class ChatCompletionInput(serializers.Serializer):
    model = serializers.CharField(max_length=80, help_text="The agent's slug (see GET models).")
    messages = ChatMessage(many=True, allow_empty=False)
    stream = serializers.BooleanField(required=False, default=False)
    stream_options = serializers.DictField(required=False, allow_null=True)
    n = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=1)

    def validate_messages(self, messages):
        user_texts = [message["content"] for message in messages if message["role"] == "user"]
        if not user_texts or not user_texts[-1].strip():
            raise serializers.ValidationError("the last user message is the agent's input and must not be empty")
        return messages

    @property
    def agent_input(self) -> str:
        return [m["content"] for m in self.validated_data["messages"] if m["role"] == "user"][-1]


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
                        "content": serializers.CharField(),
                        "refusal": serializers.CharField(allow_null=True),
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
    },
)


class OpenAIModel(serializers.Serializer):
    id = serializers.CharField(help_text="The agent's slug: pass it as `model`.")
    object = serializers.CharField(default="model")
    created = serializers.IntegerField()
    owned_by = serializers.CharField()


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
    return {"id": agent.slug, "object": "model", "created": int(agent.created_at.timestamp()), "owned_by": OWNER}


class ChatCompletionsView(OpenAIView):
    @extend_schema(
        operation_id="openai_chat_completions",
        tags=["openai"],
        request=ChatCompletionInput,
        responses={
            (200, "application/json"): ChatCompletionOutput,
            (200, "text/event-stream"): OpenApiResponse(
                OpenApiTypes.STR, description="With `stream: true`: chat.completion.chunk events, then `data: [DONE]`."
            ),
            **OPENAI_ERRORS,
        },
    )
    def post(self, request):
        data = ChatCompletionInput(data=request.data)
        data.is_valid(raise_exception=True)
        slug = data.validated_data["model"]
        agent = with_active_prompt(Agent.objects.filter(slug=slug)).first()
        if agent is None:
            raise _model_not_found(slug)
        result = invoke(user=request.user, agent=agent, channel=Channel.API, input=data.agent_input)
        completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        if data.validated_data["stream"]:
            include_usage = bool((data.validated_data.get("stream_options") or {}).get("include_usage"))
            return _stream(completion_id, created, slug, result, include_usage=include_usage)
        return Response(
            {
                "id": completion_id,
                "object": "chat.completion",
                "created": created,
                "model": slug,
                "system_fingerprint": None,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": result.output, "refusal": None},
                        "finish_reason": "stop",
                        "logprobs": None,
                    }
                ],
                "usage": _usage(result),
            }
        )


def _stream(completion_id: str, created: int, model: str, result, *, include_usage: bool) -> StreamingHttpResponse:
    """The finished answer as one content chunk, a stop chunk, an optional usage chunk and `[DONE]`.

    The agent's whole answer is known before the first byte is sent (invoke meters a completed call), so
    errors still come back as ordinary HTTP errors and a stream, once started, always ends well.
    """
    base = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model}

    def chunk(delta: dict, finish_reason: str | None) -> dict:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}]}

    events = [
        chunk({"role": "assistant", "content": result.output}, None),
        chunk({}, "stop"),
    ]
    if include_usage:
        events.append({**base, "choices": [], "usage": _usage(result)})
    body = [f"data: {json.dumps(event)}\n\n" for event in events] + ["data: [DONE]\n\n"]
    response = StreamingHttpResponse(iter(body), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


class ModelListView(OpenAIView):
    @extend_schema(
        operation_id="openai_models_list", tags=["openai"], responses={200: OpenAIModelList, **OPENAI_ERRORS}
    )
    def get(self, request):
        agents = agents_for(user=request.user, channel=Channel.API)
        return Response({"object": "list", "data": [_model(agent) for agent in agents]})


class ModelDetailView(OpenAIView):
    @extend_schema(
        operation_id="openai_models_retrieve", tags=["openai"], responses={200: OpenAIModel, **OPENAI_ERRORS}
    )
    def get(self, request, model: str):
        agent = agents_for(user=request.user, channel=Channel.API).filter(slug=model).first()
        if agent is None:
            raise _model_not_found(model)
        return Response(_model(agent))
