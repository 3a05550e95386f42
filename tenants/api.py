"""Organization API keys (SPEC §7): owners and admins list, create and revoke them."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from botgeneric.openapi import ERROR_RESPONSES, JWT_ONLY, ErrorBody
from tenants import serializers as s
from tenants.errors import TenantErrorCode
from tenants.models import ApiKey
from tenants.selectors import access_api_key, api_keys_for
from tenants.services import create_api_key, revoke_api_key

NOT_FOUND = {404: OpenApiResponse(ErrorBody, description="No such key in your organization")}


class SignedInPerson(permissions.BasePermission):
    """Keys are managed by a person: a leaked key must not be able to mint or revoke keys."""

    message = "Managing API keys needs a signed-in user, not an API key."
    code = TenantErrorCode.SESSION_REQUIRED

    def has_permission(self, request, view):
        return not isinstance(request.auth, ApiKey)


class CanManageOrganization(permissions.BasePermission):
    message = "Only the organization's owner or an admin can manage API keys."
    code = TenantErrorCode.FORBIDDEN_ROLE

    def has_permission(self, request, view):
        return bool(request.user.organization_id and request.user.can_manage_organization)


class ApiKeyPermissions:
    permission_classes = [permissions.IsAuthenticated, SignedInPerson, CanManageOrganization]


class ApiKeyListView(ApiKeyPermissions, generics.ListAPIView):
    serializer_class = s.ApiKeyOutput

    def get_queryset(self):
        return api_keys_for(organization_id=self.request.user.organization_id)

    @extend_schema(responses={200: s.ApiKeyOutput(many=True), **ERROR_RESPONSES}, auth=JWT_ONLY)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(request=s.ApiKeyInput, responses={201: s.ApiKeyCreated, **ERROR_RESPONSES}, auth=JWT_ONLY)
    def post(self, request):
        data = s.ApiKeyInput(data=request.data)
        data.is_valid(raise_exception=True)
        key, secret = create_api_key(
            organization=request.user.organization,
            name=data.validated_data["name"],
            actor=request.user,
            scopes=sorted(data.validated_data.get("scopes") or []),
        )
        key.key = secret
        return Response(s.ApiKeyCreated(key).data, status=status.HTTP_201_CREATED)


class ApiKeyDetailView(ApiKeyPermissions, APIView):
    @extend_schema(responses={200: s.ApiKeyOutput, **ERROR_RESPONSES, **NOT_FOUND}, auth=JWT_ONLY)
    def get(self, request, key_id: int):
        return Response(s.ApiKeyOutput(access_api_key(user=request.user, key_id=key_id)).data)

    @extend_schema(
        description="Revoke the key: the next request with it gets 401. Revoking a revoked key is a no-op.",
        responses={204: None, **ERROR_RESPONSES, **NOT_FOUND},
        auth=JWT_ONLY,
    )
    def delete(self, request, key_id: int):
        revoke_api_key(key=access_api_key(user=request.user, key_id=key_id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
