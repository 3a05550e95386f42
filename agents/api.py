"""Agent API (SPEC §7): list/read the agents the policy allows, invoke one, read own conversations."""

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from agents import serializers as s
from agents.models import Channel
from agents.selectors import access_agent, access_conversation, conversations_for, messages_of
from agents.services import invoke
from botgeneric.openapi import ERROR_RESPONSES, ErrorBody
from policy.permissions import PolicyPermission
from policy.selectors import agents_for

INVOKE_ERRORS = {
    **ERROR_RESPONSES,
    402: OpenApiResponse(ErrorBody, description="no_subscription / subscription_inactive"),
    404: OpenApiResponse(ErrorBody, description="agent_not_found / not_found (conversation)"),
    502: OpenApiResponse(ErrorBody, description="upstream_error"),
    504: OpenApiResponse(ErrorBody, description="upstream_timeout"),
}


class AgentViewSet(viewsets.ReadOnlyModelViewSet):
    """Reading is scoped to the agents the caller's plan allows on the API; invoking is decided by the
    policy (PolicyPermission), so a refused agent answers with the policy's own code, not a bare 404."""

    permission_classes = [IsAuthenticated, PolicyPermission]
    serializer_class = s.AgentOutput
    policy_channel = Channel.API
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return agents_for(user=self.request.user, channel=self.policy_channel)

    def get_object(self):
        if self.action != "invoke":
            return super().get_object()
        agent = access_agent(agent_id=self.kwargs["pk"])
        self.check_object_permissions(self.request, agent)
        return agent

    @extend_schema(request=s.InvokeInput, responses={200: s.InvokeOutput, **INVOKE_ERRORS})
    @action(detail=True, methods=["post"])
    def invoke(self, request, pk=None):
        data = s.InvokeInput(data=request.data)
        data.is_valid(raise_exception=True)
        agent = self.get_object()
        conversation = None
        if data.validated_data.get("conversation_id"):
            conversation = access_conversation(
                user=request.user,
                conversation_id=data.validated_data["conversation_id"],
                history=settings.CONVERSATION_HISTORY_MESSAGES,
            )
        result = invoke(
            user=request.user,
            agent=agent,
            channel=self.policy_channel,
            input=data.validated_data["input"],
            variables=data.validated_data["variables"],
            conversation=conversation,
            access=getattr(request, "policy_access", None),
        )
        return Response(s.InvokeOutput(result).data)


class ConversationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's own conversations (own organization and own user); anyone else's id is 404."""

    permission_classes = [IsAuthenticated]
    serializer_class = s.ConversationOutput
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return conversations_for(user=self.request.user)

    @extend_schema(responses={200: s.ConversationDetailOutput, **ERROR_RESPONSES})
    def retrieve(self, request, pk=None):
        conversation = access_conversation(user=request.user, conversation_id=pk)
        messages = messages_of(conversation=conversation)
        return Response(s.ConversationDetailOutput(conversation, context={"messages": messages}).data)
