"""Deployments, contacts and client conversations API (issue 15): tenant-scoped, another
organization's id answers 404."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.permissions import SAFE_METHODS, IsAuthenticated
from rest_framework.response import Response

from botgeneric.openapi import ERROR_RESPONSES, ErrorBody
from deployments import selectors, services
from deployments import serializers as s
from deployments.models import DeploymentChannel
from tenants.models import ApiKey
from tenants.permissions import ApiKeyScopes, InsufficientScope

NOT_FOUND = {404: OpenApiResponse(ErrorBody, description="No such row in your organization")}


class ReadOrPerson(ApiKeyScopes):
    """Reading takes a key with `read`; deploying, changing and deleting take a signed-in person (a bot
    token is not something to hand to a script)."""

    def has_permission(self, request, view):
        if isinstance(request.auth, ApiKey) and request.method not in SAFE_METHODS:
            raise InsufficientScope(
                detail="Deployments are changed by a signed-in owner or admin, not an API key.", extra={"scope": None}
            )
        return super().has_permission(request, view)


class DeploymentViewSet(viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated, ReadOrPerson]
    serializer_class = s.DeploymentOutput
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return selectors.deployments_for(organization_id=self.request.user.organization_id)

    @extend_schema(responses={200: s.DeploymentOutput(many=True), **ERROR_RESPONSES})
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        data = s.DeploymentOutput(page if page is not None else self.get_queryset(), many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    @extend_schema(
        request=s.DeploymentInput,
        responses={
            201: s.DeploymentOutput,
            402: OpenApiResponse(ErrorBody, description="no_subscription / subscription_inactive"),
            404: OpenApiResponse(ErrorBody, description="agent_not_found"),
            409: OpenApiResponse(ErrorBody, description="bot_in_use"),
            502: OpenApiResponse(ErrorBody, description="telegram_error"),
            **ERROR_RESPONSES,
        },
    )
    def create(self, request):
        data = s.DeploymentInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        deployment = services.create_deployment(
            actor=request.user,
            agent_id=values["agent"],
            channel=values["channel"],
            name=values["name"],
            telegram_bot_token=values["telegram_bot_token"],
            allowed_origins=values["allowed_origins"],
            webhook_base_url=request.build_absolute_uri("/"),
        )
        return Response(s.DeploymentOutput(deployment).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.DeploymentOutput, **ERROR_RESPONSES, **NOT_FOUND})
    def retrieve(self, request, pk=None):
        return Response(s.DeploymentOutput(selectors.access_deployment(user=request.user, deployment_id=pk)).data)

    @extend_schema(
        request=s.DeploymentChange,
        responses={
            200: s.DeploymentOutput,
            402: OpenApiResponse(ErrorBody, description="no_subscription / subscription_inactive (resuming)"),
            409: OpenApiResponse(ErrorBody, description="deployment_unavailable"),
            **ERROR_RESPONSES,
            **NOT_FOUND,
        },
    )
    def partial_update(self, request, pk=None):
        deployment = selectors.access_deployment(user=request.user, deployment_id=pk)
        data = s.DeploymentChange(data=request.data)
        data.is_valid(raise_exception=True)
        deployment = services.update_deployment(deployment=deployment, actor=request.user, **data.validated_data)
        return Response(s.DeploymentOutput(deployment).data)

    @extend_schema(responses={204: None, **ERROR_RESPONSES, **NOT_FOUND})
    def destroy(self, request, pk=None):
        deployment = selectors.access_deployment(user=request.user, deployment_id=pk)
        services.delete_deployment(deployment=deployment, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ContactViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The organization's clients; a contact's page lists its conversations."""

    permission_classes = [IsAuthenticated, ApiKeyScopes]
    serializer_class = s.ContactOutput
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        query = s.ContactFilter(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.contacts_for(
            organization_id=self.request.user.organization_id,
            channel=query.validated_data.get("channel"),
            deployment_id=query.validated_data.get("deployment"),
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("channel", str, enum=DeploymentChannel.values, required=False),
            OpenApiParameter("deployment", int, required=False, description="Only clients who came through it"),
        ],
        responses={200: s.ContactOutput(many=True), **ERROR_RESPONSES},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={200: s.ContactDetailOutput, **ERROR_RESPONSES, **NOT_FOUND})
    def retrieve(self, request, pk=None):
        contact = selectors.access_contact(user=request.user, contact_id=pk)
        conversations = selectors.client_conversations_for(
            organization_id=request.user.organization_id, contact=contact
        )
        return Response(s.ContactDetailOutput(contact, context={"conversations": conversations}).data)


class ClientConversationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The inbox: conversations of the organization's clients, newest first, with their messages."""

    permission_classes = [IsAuthenticated, ApiKeyScopes]
    serializer_class = s.ClientConversationOutput
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return selectors.client_conversations_for(organization_id=self.request.user.organization_id)

    @extend_schema(responses={200: s.ClientConversationDetail, **ERROR_RESPONSES, **NOT_FOUND})
    def retrieve(self, request, pk=None):
        conversation = selectors.access_client_conversation(user=request.user, conversation_id=pk)
        return Response(s.ClientConversationDetail(conversation).data)
