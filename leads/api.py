"""Leads API (issue 15): the organization's leads, filtered by status; a member changes a lead's status.
Another organization's lead answers 404."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from botgeneric.openapi import ERROR_RESPONSES, ErrorBody
from leads import selectors, services
from leads import serializers as s
from leads.models import LeadStatus
from tenants.permissions import ApiKeyScopes, NoApiKeyChanges

NOT_FOUND = {404: OpenApiResponse(ErrorBody, description="No such lead in your organization")}


class LeadViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated, ApiKeyScopes]
    serializer_class = s.LeadOutput
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        query = s.LeadFilter(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.leads_for(
            organization_id=self.request.user.organization_id, status=query.validated_data.get("status")
        )

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=LeadStatus.values, required=False)],
        responses={200: s.LeadOutput(many=True), **ERROR_RESPONSES},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={200: s.LeadOutput, **ERROR_RESPONSES, **NOT_FOUND})
    def retrieve(self, request, pk=None):
        return Response(s.LeadOutput(selectors.access_lead(user=request.user, lead_id=pk)).data)

    @extend_schema(request=s.LeadChange, responses={200: s.LeadOutput, **ERROR_RESPONSES, **NOT_FOUND})
    def partial_update(self, request, pk=None):
        lead = selectors.access_lead(user=request.user, lead_id=pk)
        data = s.LeadChange(data=request.data)
        data.is_valid(raise_exception=True)
        lead = services.change_status(lead=lead, actor=request.user, status=data.validated_data["status"])
        return Response(s.LeadOutput(lead).data)


class LeadNoticesView(APIView):
    """Your own notices of new leads: owners are always told; an admin opts in or out."""

    permission_classes = [IsAuthenticated, NoApiKeyChanges]

    @extend_schema(responses={200: s.LeadNoticesOutput, **ERROR_RESPONSES})
    def get(self, request):
        return Response(s.LeadNoticesOutput(selectors.lead_notices(user=request.user)).data)

    @extend_schema(
        request=s.LeadNoticesChange,
        responses={
            200: s.LeadNoticesOutput,
            403: OpenApiResponse(ErrorBody, description="forbidden_role (members are not told of leads)"),
            **ERROR_RESPONSES,
        },
    )
    def patch(self, request):
        data = s.LeadNoticesChange(data=request.data)
        data.is_valid(raise_exception=True)
        services.set_watching(user=request.user, watching=data.validated_data["watching"])
        return Response(s.LeadNoticesOutput(selectors.lead_notices(user=request.user)).data)
