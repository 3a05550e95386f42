"""Agent API (SPEC §7): list/read the agents the policy allows, invoke one, read own conversations."""

import json
from collections.abc import AsyncIterator

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from agents import serializers as s
from agents.selectors import access_agent, access_conversation, conversations_for, messages_of
from agents.services import Started, StreamDone, TextDelta, release_started, start, stream_started
from agents.streaming import (
    AsyncAPIView,
    EventStreamNegotiation,
    event_stream_response,
    wants_event_stream,
    with_keepalives,
)
from botgeneric.channels import Channel
from botgeneric.errors import DomainError
from botgeneric.openapi import ERROR_RESPONSES, ErrorBody
from policy.permissions import PolicyPermission
from policy.selectors import agents_for
from tenants.permissions import ApiKeyScopes

INVOKE_ERRORS = {
    **ERROR_RESPONSES,
    402: OpenApiResponse(ErrorBody, description="no_subscription / subscription_inactive"),
    404: OpenApiResponse(ErrorBody, description="agent_not_found / not_found (conversation)"),
    502: OpenApiResponse(ErrorBody, description="upstream_error"),
    504: OpenApiResponse(ErrorBody, description="upstream_timeout"),
}


SSE_DESCRIPTION = """With `"stream": true` or `Accept: text/event-stream`: Server-Sent Events.
`event: delta` — `{"text": "..."}`, the next piece of the answer, as the model writes it;
`event: done` — once, at the end: `{"conversation_id", "prompt_version", "usage": {...}}` (and `"demo": true`);
`event: error` — `{"code", "detail"}` when the answer fails after it began (what was delivered is charged
and stored, marked interrupted). Comment lines (`: keep-alive`) may come while the model is silent.
Errors before the first delta are ordinary JSON error responses with their status."""


class AgentViewSet(viewsets.ReadOnlyModelViewSet):
    """Reading is scoped to the agents the caller's plan allows on the API; invoking is `AgentInvokeView`."""

    permission_classes = [IsAuthenticated, ApiKeyScopes]
    serializer_class = s.AgentOutput
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return agents_for(user=self.request.user, channel=Channel.API)


class AgentInvokeView(AsyncAPIView):
    """Invoke an agent: decided by the policy (PolicyPermission), so a refused agent answers with the
    policy's own code, not a bare 404. The whole answer as JSON, or streamed as Server-Sent Events."""

    permission_classes = [IsAuthenticated, ApiKeyScopes, PolicyPermission]
    content_negotiation_class = EventStreamNegotiation
    policy_channel = Channel.API

    @extend_schema(
        operation_id="agents_invoke_create",
        tags=["agents"],
        request=s.InvokeInput,
        responses={
            (200, "application/json"): s.InvokeOutput,
            (200, "text/event-stream"): OpenApiResponse(OpenApiTypes.STR, description=SSE_DESCRIPTION),
            **INVOKE_ERRORS,
        },
    )
    async def post(self, request, prepared: tuple[dict, Started], pk=None):
        data, started = prepared
        stream = stream_started(started)
        first = await anext(stream)  # failures before the answer starts raise here
        if wants_event_stream(request, data):
            return await event_stream_response(request, _sse(first, stream))
        async for event in stream:
            first = event
        return Response(s.invoke_output(first.result))

    def prepare(self, request, pk=None) -> tuple[dict, Started]:
        """Validate, decide (PolicyPermission) and start the call — render, reserve — in the one trip to a
        thread before the answer: refusals are raised from here, metered."""
        data = s.validated_invoke_input(request.data)
        agent = access_agent(agent_id=pk)
        self.check_object_permissions(request, agent)
        conversation = None
        if data.get("conversation_id"):
            conversation = access_conversation(
                user=request.user,
                conversation_id=data["conversation_id"],
                history=settings.CONVERSATION_HISTORY_MESSAGES,
            )
        started = start(
            user=request.user,
            agent=agent,
            channel=self.policy_channel,
            input=data["input"],
            variables=data["variables"],
            conversation=conversation,
            access=getattr(request, "policy_access", None),
        )
        return data, started

    def abandon(self, prepared: tuple[dict, Started]) -> None:
        release_started(prepared[1])


def _event(name: str, data: dict) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _format(event: TextDelta | StreamDone | None) -> str:
    if event is None:
        return ": keep-alive\n\n"
    if isinstance(event, TextDelta):
        return _event("delta", {"text": event.text})
    done = s.invoke_output(event.result)
    del done["output"]
    return _event("done", done)


async def _sse(first: TextDelta, stream: AsyncIterator) -> AsyncIterator[str]:
    """The answer as `delta` events, then `done`; an `error` event if it fails midway."""
    yield _format(first)
    try:
        async for event in with_keepalives(stream):
            yield _format(event)
    except DomainError as failure:
        yield _event("error", failure.as_dict())


class ConversationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's own conversations (own organization and own user); anyone else's id is 404."""

    permission_classes = [IsAuthenticated, ApiKeyScopes]
    serializer_class = s.ConversationOutput
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return conversations_for(user=self.request.user)

    @extend_schema(responses={200: s.ConversationDetailOutput, **ERROR_RESPONSES})
    def retrieve(self, request, pk=None):
        conversation = access_conversation(user=request.user, conversation_id=pk)
        messages = messages_of(conversation=conversation)
        return Response(s.ConversationDetailOutput(conversation, context={"messages": messages}).data)
