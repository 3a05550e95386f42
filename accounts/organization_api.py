"""The caller's organization, its members and invitations (issue 18 item 1). Thin: validate, call
`accounts.membership` or `tenants.services`, shape the answer.

Everyone in the organization reads the organization and its members; owners and admins change them
(403 `forbidden_role`). Like profile changes, membership changes are a person's: an API key may read
(with `read`) but never change them (403 `insufficient_scope`). Another organization's ids are 404.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import serializers as s
from accounts.membership import (
    accept_invitation,
    change_role,
    invite_member,
    remove_member,
    revoke_invitation,
    transfer_ownership,
)
from accounts.models import User
from botgeneric.openapi import ERROR_RESPONSES, INVITATION_REFUSALS, JWT_ONLY, ErrorBody
from policy.seats import seats_for
from tenants.errors import TenantErrorCode
from tenants.permissions import NoApiKeyChanges
from tenants.selectors import NotFound, access_invitation, access_member, members_of, open_invitations_for
from tenants.services import rename_organization

NOT_FOUND = {404: OpenApiResponse(ErrorBody, description="No such row in your organization")}
CONFLICT = {409: OpenApiResponse(ErrorBody, description="owner_must_transfer: the owner's place changes by a transfer")}


class InOrganization(IsAuthenticated):
    """Signed in (person or key) and in an organization; a person without one has nothing here (404)."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        if not request.user.organization_id:
            raise NotFound(detail="You are not in an organization.")
        return True


class MemberPermissions:
    permission_classes = [InOrganization, NoApiKeyChanges]


def _organization_body(user: User) -> dict:
    organization = user.organization
    seats = seats_for(organization_id=organization.pk)
    return {
        "id": organization.pk,
        "name": organization.name,
        "slug": organization.slug,
        "created_at": organization.created_at,
        "role": user.role,
        "seats": {
            "limit": seats.limit,
            "members": seats.members,
            "pending_invitations": seats.pending_invitations,
            "used": seats.used,
        },
    }


class OrganizationView(MemberPermissions, APIView):
    @extend_schema(responses={200: s.OrganizationDetail, **ERROR_RESPONSES, **NOT_FOUND})
    def get(self, request):
        return Response(s.OrganizationDetail(_organization_body(request.user)).data)

    @extend_schema(
        description="Rename the organization (owners and admins).",
        request=s.OrganizationRename,
        responses={200: s.OrganizationDetail, **ERROR_RESPONSES, **NOT_FOUND},
        auth=JWT_ONLY,
    )
    def patch(self, request):
        data = s.OrganizationRename(data=request.data)
        data.is_valid(raise_exception=True)
        rename_organization(
            organization=request.user.organization, name=data.validated_data["name"], actor=request.user
        )
        return Response(s.OrganizationDetail(_organization_body(request.user)).data)


class MemberViewSet(MemberPermissions, viewsets.GenericViewSet):
    serializer_class = s.MemberOutput
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return members_of(organization=self.request.user.organization)

    @extend_schema(responses={200: s.MemberOutput(many=True), **ERROR_RESPONSES, **NOT_FOUND})
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        data = s.MemberOutput(page if page is not None else self.get_queryset(), many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    @extend_schema(
        description="Change a member's role (admin or member). An admin cannot change the owner.",
        request=s.MemberChange,
        responses={200: s.MemberOutput, **ERROR_RESPONSES, **NOT_FOUND, **CONFLICT},
        auth=JWT_ONLY,
    )
    def partial_update(self, request, pk=None):
        member = access_member(user=request.user, member_id=pk)
        data = s.MemberChange(data=request.data)
        data.is_valid(raise_exception=True)
        member = change_role(actor=request.user, member=member, role=data.validated_data["role"])
        return Response(s.MemberOutput(member).data)

    @extend_schema(
        description="Remove a member: they leave the organization and their API keys stop working at once.",
        responses={204: None, **ERROR_RESPONSES, **NOT_FOUND, **CONFLICT},
        auth=JWT_ONLY,
    )
    def destroy(self, request, pk=None):
        remove_member(actor=request.user, member=access_member(user=request.user, member_id=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ManagersOnly(IsAuthenticated):
    message = "Only the organization's owner or an admin can see and send invitations."
    code = TenantErrorCode.FORBIDDEN_ROLE

    def has_permission(self, request, view):
        return bool(request.user.can_manage_organization)


class InvitationViewSet(viewsets.GenericViewSet):
    permission_classes = [InOrganization, NoApiKeyChanges, ManagersOnly]
    serializer_class = s.InvitationOutput
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return open_invitations_for(organization_id=self.request.user.organization_id)

    @extend_schema(responses={200: s.InvitationOutput(many=True), **ERROR_RESPONSES, **NOT_FOUND})
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        data = s.InvitationOutput(page if page is not None else self.get_queryset(), many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    @extend_schema(
        description="Invite someone by e-mail; the link is mailed to them (never returned here). Inviting an "
        "address with an open invitation replaces it (a new link). Pending invitations hold seats.",
        request=s.InvitationInput,
        responses={
            201: s.InvitationOutput,
            **ERROR_RESPONSES,
            402: OpenApiResponse(ErrorBody, description="no_subscription: no plan, so no seats"),
            403: OpenApiResponse(ErrorBody, description="forbidden_role / seats_exhausted / insufficient_scope"),
            409: OpenApiResponse(ErrorBody, description="already_member"),
        },
        auth=JWT_ONLY,
    )
    def create(self, request):
        data = s.InvitationInput(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = invite_member(actor=request.user, **data.validated_data)
        return Response(s.InvitationOutput(invitation).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        description="Revoke an open invitation: its link stops working and its seat is free.",
        responses={204: None, **ERROR_RESPONSES, **NOT_FOUND},
        auth=JWT_ONLY,
    )
    def destroy(self, request, pk=None):
        revoke_invitation(invitation=access_invitation(user=request.user, invitation_id=pk), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AcceptInvitationView(APIView):
    permission_classes = [IsAuthenticated, NoApiKeyChanges]

    @extend_schema(
        description="Join the organization of an invitation sent to your verified address. If you are in an "
        "organization that is yours alone and holds nothing, you move and it is removed; otherwise 409 "
        "`organization_not_empty` with `reasons`.",
        request=s.AcceptInvitationInput,
        responses={
            200: s.ProfileOutput,
            **ERROR_RESPONSES,
            **INVITATION_REFUSALS,
            403: OpenApiResponse(ErrorBody, description="invitation_email_mismatch / invitation_email_unverified"),
            409: OpenApiResponse(ErrorBody, description="already_member / organization_not_empty"),
        },
        auth=JWT_ONLY,
    )
    def post(self, request):
        data = s.AcceptInvitationInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = accept_invitation(user=request.user, token=data.validated_data["token"])
        profile = User.objects.select_related("organization", "organization__billing_account__plan").get(pk=user.pk)
        return Response(s.ProfileOutput(profile).data)


class TransferOwnershipView(MemberPermissions, APIView):
    @extend_schema(
        description="The owner hands the organization to another active member and becomes an admin.",
        request=s.TransferOwnershipInput,
        responses={200: s.MemberOutput, **ERROR_RESPONSES, **NOT_FOUND},
        auth=JWT_ONLY,
    )
    def post(self, request):
        data = s.TransferOwnershipInput(data=request.data)
        data.is_valid(raise_exception=True)
        new_owner = access_member(user=request.user, member_id=data.validated_data["user"])
        return Response(s.MemberOutput(transfer_ownership(actor=request.user, new_owner=new_owner)).data)
