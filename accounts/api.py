"""JWT auth endpoints (SPEC §7). Thin: validate, call a service, shape the answer."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenRefreshView

from accounts import serializers as s
from accounts.models import User
from accounts.services import AccountError, register_user, set_locale, update_profile
from accounts.throttles import AuthEmailThrottle, AuthIPThrottle
from botgeneric.errors import DomainError
from botgeneric.openapi import ERROR_RESPONSES


def _profile_queryset():
    return User.objects.select_related("organization", "organization__billing_account__plan")


class RegisterView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [AuthIPThrottle, AuthEmailThrottle]

    @extend_schema(request=s.RegisterInput, responses={201: s.RegisterOutput, **ERROR_RESPONSES})
    def post(self, request):
        data = s.RegisterInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = register_user(**data.validated_data)
        user = _profile_queryset().get(pk=user.pk)
        body = {"user": s.ProfileOutput(user).data, "organization": s.OrganizationOutput(user.organization).data}
        return Response(body, status=status.HTTP_201_CREATED)


class LoginView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [AuthIPThrottle, AuthEmailThrottle]

    @extend_schema(request=s.LoginInput, responses={200: s.TokenPair, **ERROR_RESPONSES})
    def post(self, request):
        data = s.LoginInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = User.objects.filter(email__iexact=data.validated_data["email"]).first()
        password = data.validated_data["password"]
        if user is None:
            User().set_password(password)  # same hashing cost, so timing does not reveal accounts
            raise DomainError("invalid_credentials", "E-mail or password is wrong.", 401)
        if not user.check_password(password):
            raise DomainError("invalid_credentials", "E-mail or password is wrong.", 401)
        if not user.is_active:
            raise DomainError("user_inactive", "This account is deactivated.", 403)
        refresh = RefreshToken.for_user(user)
        return Response({"access": str(refresh.access_token), "refresh": str(refresh)})


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
            raise DomainError("token_not_valid", str(exc), 401) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProfileView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: s.ProfileOutput, **ERROR_RESPONSES})
    def get(self, request):
        return Response(s.ProfileOutput(_profile_queryset().get(pk=request.user.pk)).data)

    @extend_schema(request=s.ProfileInput, responses={200: s.ProfileOutput, **ERROR_RESPONSES})
    def patch(self, request):
        data = s.ProfileInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        update_profile(user=request.user, **data.validated_data)
        return Response(s.ProfileOutput(_profile_queryset().get(pk=request.user.pk)).data)


class LocaleView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=s.LocaleInput, responses={200: s.ProfileOutput, **ERROR_RESPONSES})
    def put(self, request):
        locale = request.data.get("locale") if isinstance(request.data, dict) else None
        if not isinstance(locale, str):
            raise AccountError("invalid", "Invalid input.", extra={"fields": {"locale": ["This field is required."]}})
        set_locale(user=request.user, locale=locale)
        return Response(s.ProfileOutput(_profile_queryset().get(pk=request.user.pk)).data)
