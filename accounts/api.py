"""JWT auth endpoints (SPEC §7). Thin: validate, call a service, shape the answer."""

from allauth.account.adapter import get_adapter as get_account_adapter
from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenRefreshView

from accounts import serializers as s
from accounts.deletion import delete_account
from accounts.errors import AccountErrorCode
from accounts.models import User
from accounts.selectors import had_trial_elsewhere
from accounts.services import AccountError, register_user, set_locale, update_profile
from accounts.throttles import AuthEmailThrottle, AuthIPThrottle, SignupIPThrottle
from accounts.tokens import token_pair
from botgeneric.errors import ApiErrorCode, DomainError
from botgeneric.openapi import ERROR_RESPONSES, INVITATION_REFUSALS, JWT_ONLY, ErrorBody
from notifications.services import update_preferences
from policy.errors import DenyCode
from tenants.permissions import NoApiKeyChanges

# allauth's `login_failed` per-account window (ACCOUNT_RATE_LIMITS): how long a locked account waits.
LOCKOUT_SECONDS = 300


def _profile_queryset():
    return User.objects.select_related(
        "organization", "organization__billing_account__plan", "notification_preferences"
    )


class RegisterView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [AuthIPThrottle, AuthEmailThrottle, SignupIPThrottle]

    @extend_schema(
        description="Creates the account and its organization and mails a link that verifies the address. "
        "Until it is clicked, a trial allows only `TRIAL_UNVERIFIED_REQUESTS` requests. `trial` says "
        "whether the organization got the free trial (one per person: e-mail and Telegram account). With "
        "`invitation` (the token of an invitation link sent to this address) the account joins the inviting "
        "organization instead, its address verified: 404 `invitation_invalid`, 410 `invitation_expired` / "
        "`invitation_used` / `invitation_revoked`, 403 `invitation_email_mismatch`.",
        request=s.RegisterInput,
        responses={201: s.RegisterOutput, **ERROR_RESPONSES, **INVITATION_REFUSALS},
    )
    def post(self, request):
        data = s.RegisterInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        invitation = values.pop("invitation", None)
        user = register_user(**values, invitation_token=invitation, send_verification=True)
        user = _profile_queryset().get(pk=user.pk)
        body = {
            "user": s.ProfileOutput(user).data,
            "organization": s.OrganizationOutput(user.organization).data,
            "trial": _trial_notice(user),
        }
        return Response(body, status=status.HTTP_201_CREATED)


def _trial_notice(user: User) -> dict:
    account = getattr(user.organization, "billing_account", None)
    if account is not None and account.trial_end is not None:
        return {"granted": True, "ends_at": account.trial_end.isoformat(), "detail": "Your free trial has started."}
    if had_trial_elsewhere(user=user):
        detail = (
            "This e-mail address has already had its free trial, so the new organization starts without "
            "one. Subscribe to a plan to use the agents."
        )
    else:
        detail = "No free trial is available at the moment. Subscribe to a plan to use the agents."
    return {"granted": False, "ends_at": None, "detail": detail}


class LoginView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [AuthIPThrottle, AuthEmailThrottle]

    @extend_schema(request=s.LoginInput, responses={200: s.TokenPair, **ERROR_RESPONSES})
    def post(self, request):
        data = s.LoginInput(data=request.data)
        data.is_valid(raise_exception=True)
        # allauth's authenticate() is the web sign-in's too: the same backends (equal timing for unknown
        # addresses) and the same `login_failed` limits, so 5 failures lock the account on both.
        try:
            user = get_account_adapter(request._request).authenticate(
                request._request, email=data.validated_data["email"], password=data.validated_data["password"]
            )
        except ValidationError:
            raise DomainError(
                AccountErrorCode.TOO_MANY_LOGIN_ATTEMPTS,
                "Too many failed sign-ins: try again in a few minutes, or reset the password.",
                429,
                {"retry_after": LOCKOUT_SECONDS},
            ) from None
        if user is None:
            raise DomainError(AccountErrorCode.INVALID_CREDENTIALS, "E-mail or password is wrong.", 401)
        if not user.is_active:
            raise DomainError(DenyCode.USER_INACTIVE, "This account is deactivated.", 403)
        return Response(token_pair(user))


class RefreshView(TokenRefreshView):
    @extend_schema(request=s.RefreshInput, responses={200: s.TokenPair, **ERROR_RESPONSES})
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class LogoutView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=s.RefreshInput, responses={204: None, **ERROR_RESPONSES})
    def post(self, request):
        data = s.RefreshInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            RefreshToken(data.validated_data["refresh"]).blacklist()
        except TokenError as exc:
            raise DomainError(AccountErrorCode.TOKEN_NOT_VALID, str(exc), 401) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProfileView(APIView):
    permission_classes = [IsAuthenticated, NoApiKeyChanges]

    @extend_schema(responses={200: s.ProfileOutput, **ERROR_RESPONSES})
    def get(self, request):
        return Response(s.ProfileOutput(_profile_queryset().get(pk=request.user.pk)).data)

    @extend_schema(request=s.ProfileInput, responses={200: s.ProfileOutput, **ERROR_RESPONSES}, auth=JWT_ONLY)
    def patch(self, request):
        data = s.ProfileInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        notifications = changes.pop("notifications", None)
        update_profile(user=request.user, **changes)
        if notifications:
            update_preferences(user=request.user, changes=notifications)
        return Response(s.ProfileOutput(_profile_queryset().get(pk=request.user.pk)).data)

    @extend_schema(
        description="Delete your own account: your personal data is erased, your API keys, tokens and sessions "
        "stop working. Re-enter your password (`confirm: DELETE` without one). An organization's only owner "
        "gets 409 `owner_must_transfer`: transfer ownership or delete the organization first.",
        request=s.DeleteAccountInput,
        responses={204: None, **ERROR_RESPONSES, 409: OpenApiResponse(ErrorBody, description="owner_must_transfer")},
        auth=JWT_ONLY,
    )
    def delete(self, request):
        data = s.DeleteAccountInput(data=request.data)
        data.is_valid(raise_exception=True)
        delete_account(user=request.user, **data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LocaleView(APIView):
    permission_classes = [IsAuthenticated, NoApiKeyChanges]

    @extend_schema(request=s.LocaleInput, responses={200: s.ProfileOutput, **ERROR_RESPONSES}, auth=JWT_ONLY)
    def put(self, request):
        locale = request.data.get("locale") if isinstance(request.data, dict) else None
        if not isinstance(locale, str):
            raise AccountError(
                ApiErrorCode.INVALID, "Invalid input.", extra={"fields": {"locale": ["This field is required."]}}
            )
        set_locale(user=request.user, locale=locale)
        return Response(s.ProfileOutput(_profile_queryset().get(pk=request.user.pk)).data)
