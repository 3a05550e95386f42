"""Webhook endpoints API (issue 18): owners and admins register endpoints, read their deliveries and send
one again. Another organization's id answers 404; a member gets 403 `forbidden_role`; an API key reads
with `read` and changes nothing (an endpoint receives the organization's data)."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, IsAuthenticated
from rest_framework.response import Response

from botgeneric.errors import DomainError
from botgeneric.openapi import ERROR_RESPONSES, ErrorBody
from tenants.errors import TenantErrorCode
from tenants.models import ApiKey
from tenants.permissions import ApiKeyScopes, InsufficientScope
from webhooks import selectors, services
from webhooks import serializers as s

NOT_FOUND = {404: OpenApiResponse(ErrorBody, description="No such endpoint (or delivery) in your organization")}


class ManagersOnly(ApiKeyScopes):
    """Owners and admins; an API key (with `read`) may only read."""

    def has_permission(self, request, view):
        if isinstance(request.auth, ApiKey) and request.method not in SAFE_METHODS:
            raise InsufficientScope(
                detail="Webhook endpoints are changed by a signed-in owner or admin, not an API key.",
                extra={"scope": None},
            )
        super().has_permission(request, view)
        if not (request.user.organization_id and request.user.can_manage_organization):
            raise DomainError(
                TenantErrorCode.FORBIDDEN_ROLE, "Only the organization's owner or an admin can manage webhooks.", 403
            )
        return True


class WebhookEndpointViewSet(viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated, ManagersOnly]
    serializer_class = s.EndpointOutput
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return selectors.endpoints_for(organization_id=self.request.user.organization_id)

    @extend_schema(responses={200: s.EndpointOutput(many=True), **ERROR_RESPONSES})
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.EndpointOutput(page, many=True).data)

    @extend_schema(
        request=s.EndpointInput,
        responses={201: s.EndpointWithSecret, **ERROR_RESPONSES},
        description="Register an endpoint. The answer carries its signing secret, which is never shown again.",
    )
    def create(self, request):
        data = s.EndpointInput(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint, secret = services.create_endpoint(
            actor=request.user, organization=request.user.organization, **data.validated_data
        )
        endpoint.secret = secret
        return Response(s.EndpointWithSecret(endpoint).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.EndpointOutput, **ERROR_RESPONSES, **NOT_FOUND})
    def retrieve(self, request, pk=None):
        return Response(s.EndpointOutput(selectors.access_endpoint(user=request.user, endpoint_id=pk)).data)

    @extend_schema(request=s.EndpointChange, responses={200: s.EndpointOutput, **ERROR_RESPONSES, **NOT_FOUND})
    def partial_update(self, request, pk=None):
        endpoint = selectors.access_endpoint(user=request.user, endpoint_id=pk)
        data = s.EndpointChange(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.update_endpoint(endpoint=endpoint, actor=request.user, **data.validated_data)
        return Response(s.EndpointOutput(endpoint).data)

    @extend_schema(responses={204: None, **ERROR_RESPONSES, **NOT_FOUND})
    def destroy(self, request, pk=None):
        endpoint = selectors.access_endpoint(user=request.user, endpoint_id=pk)
        services.delete_endpoint(endpoint=endpoint, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=None,
        responses={200: s.EndpointWithSecret, **ERROR_RESPONSES, **NOT_FOUND},
        description="Replace the signing secret at once; the answer carries the new one, never shown again.",
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        endpoint = selectors.access_endpoint(user=request.user, endpoint_id=pk)
        endpoint.secret = services.rotate_secret(endpoint=endpoint, actor=request.user)
        return Response(s.EndpointWithSecret(endpoint).data)

    @extend_schema(responses={200: s.DeliveryOutput(many=True), **ERROR_RESPONSES, **NOT_FOUND})
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        endpoint = selectors.access_endpoint(user=request.user, endpoint_id=pk)
        page = self.paginate_queryset(selectors.deliveries_for(endpoint=endpoint))
        return self.get_paginated_response(s.DeliveryOutput(page, many=True).data)

    @extend_schema(
        request=None,
        parameters=[OpenApiParameter("delivery_id", int, OpenApiParameter.PATH)],
        responses={202: s.DeliveryOutput, **ERROR_RESPONSES, **NOT_FOUND},
        description="Send the delivery's event again, as a new delivery with the same event id.",
    )
    @action(detail=True, methods=["post"], url_path=r"deliveries/(?P<delivery_id>[0-9]+)/resend")
    def resend(self, request, pk=None, delivery_id=None):
        endpoint = selectors.access_endpoint(user=request.user, endpoint_id=pk)
        delivery = selectors.access_delivery(endpoint=endpoint, delivery_id=delivery_id)
        again = services.resend(delivery=delivery, actor=request.user)
        again = selectors.deliveries_for(endpoint=endpoint).get(pk=again.pk)
        return Response(s.DeliveryOutput(again).data, status=status.HTTP_202_ACCEPTED)
