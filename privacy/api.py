"""Data export and organization deletion (issue #18 item 3): the owner's alone; API keys cannot start them."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from botgeneric.openapi import ERROR_RESPONSES, JWT_ONLY, ErrorBody
from privacy import serializers as s
from privacy.deletion import restore_organization, schedule_deletion
from privacy.selectors import access_export, exports_for
from privacy.services import request_export
from tenants.permissions import NoApiKeyChanges

NOT_FOUND = {404: OpenApiResponse(ErrorBody, description="No such export in your organization")}
IN_PROGRESS = {409: OpenApiResponse(ErrorBody, description="export_in_progress: one export at a time")}
CONFLICT = {409: OpenApiResponse(ErrorBody, description="already_pending_deletion / not_pending_deletion")}


class OwnerEndpoint:
    permission_classes = [IsAuthenticated, NoApiKeyChanges]


class ExportRequestView(OwnerEndpoint, APIView):
    @extend_schema(
        description="Queue an export of the organization's data (a ZIP of JSON and CSV: organization, members, "
        "conversations and messages, contacts, leads, usage, payments, audit). The owner gets an e-mail with "
        "a link that expires after `EXPORT_LINK_DAYS`. One export at a time per organization.",
        request=None,
        responses={202: s.ExportOutput, **ERROR_RESPONSES, **IN_PROGRESS},
        auth=JWT_ONLY,
    )
    def post(self, request):
        export = request_export(user=request.user)
        export.refresh_from_db()
        return Response(s.ExportOutput(export).data, status=status.HTTP_202_ACCEPTED)


class ExportListView(OwnerEndpoint, generics.ListAPIView):
    serializer_class = s.ExportOutput

    def get_queryset(self):
        return exports_for(user=self.request.user)

    @extend_schema(responses={200: s.ExportOutput(many=True), **ERROR_RESPONSES})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ExportDetailView(OwnerEndpoint, APIView):
    @extend_schema(responses={200: s.ExportOutput, **ERROR_RESPONSES, **NOT_FOUND})
    def get(self, request, export_id: int):
        return Response(s.ExportOutput(access_export(user=request.user, export_id=export_id)).data)


class OrganizationDeleteView(OwnerEndpoint, APIView):
    @extend_schema(
        description="Schedule the organization's deletion (`confirm`: its name). Members are refused at once "
        "(`organization_pending_deletion`), the subscription is set to end, and after "
        "`ORGANIZATION_DELETION_GRACE_DAYS` (14) its personal data and conversations are erased; payments and "
        "invoices are kept with the organization anonymized. `POST organization/restore` takes it back until then.",
        request=s.DeleteOrganizationInput,
        responses={202: s.OrganizationDeletionOutput, **ERROR_RESPONSES, **CONFLICT},
        auth=JWT_ONLY,
    )
    def post(self, request):
        data = s.DeleteOrganizationInput(data=request.data)
        data.is_valid(raise_exception=True)
        organization = schedule_deletion(user=request.user, confirm=data.validated_data["confirm"])
        return Response(s.OrganizationDeletionOutput(organization).data, status=status.HTTP_202_ACCEPTED)


class OrganizationRestoreView(OwnerEndpoint, APIView):
    @extend_schema(
        description="Take a scheduled deletion back during the grace period. The subscription stays set to end; "
        "resume it with `POST billing/resume`.",
        request=None,
        responses={200: s.OrganizationDeletionOutput, **ERROR_RESPONSES, **CONFLICT},
        auth=JWT_ONLY,
    )
    def post(self, request):
        organization = restore_organization(user=request.user)
        return Response(s.OrganizationDeletionOutput(organization).data)
