"""POST /api/v1/auth/telegram: sign in (or sign up) with the Telegram Login Widget, get a JWT pair."""

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.serializers import TokenPair
from accounts.services import get_or_create_telegram_user
from accounts.telegram_auth import verify_login_widget
from accounts.throttles import AuthIPThrottle
from accounts.tokens import token_pair
from botgeneric.errors import DomainError
from botgeneric.openapi import ERROR_RESPONSES, ErrorBody
from policy.errors import DenyCode


class TelegramLoginInput(serializers.Serializer):
    """The widget's fields as Telegram sends them; every received field is part of the signature."""

    id = serializers.IntegerField()
    first_name = serializers.CharField(required=False, allow_blank=True)
    last_name = serializers.CharField(required=False, allow_blank=True)
    username = serializers.CharField(required=False, allow_blank=True)
    photo_url = serializers.URLField(required=False, allow_blank=True)
    auth_date = serializers.IntegerField()
    hash = serializers.RegexField(r"^[0-9a-f]{64}$")


class TelegramLoginView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [AuthIPThrottle]

    @extend_schema(
        request=TelegramLoginInput,
        responses={
            200: TokenPair,
            **ERROR_RESPONSES,
            404: OpenApiResponse(ErrorBody, description="telegram_login_unavailable: Telegram login is not enabled"),
        },
    )
    def post(self, request):
        TelegramLoginInput(data=request.data).is_valid(raise_exception=True)
        login = verify_login_widget(
            request.data,
            bot_token=settings.TELEGRAM_BOT_TOKEN,
            max_age_seconds=settings.TELEGRAM_LOGIN_MAX_AGE_SECONDS,
        )
        locale = getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE)
        user = get_or_create_telegram_user(telegram_id=login.telegram_id, name=login.name, locale=locale)
        if not user.is_active:
            raise DomainError(DenyCode.USER_INACTIVE, "This account is deactivated.", 403)
        return Response(token_pair(user))
