"""POST /api/v1/auth/social/{provider}: a mobile or single-page client exchanges a Google or Apple ID
token for our JWT pair. Thin: verify the token, sign the identity in, answer the tokens."""

from dataclasses import replace

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.id_tokens import verify_id_token
from accounts.serializers import TokenPair
from accounts.social import is_new_identity, sign_in_with_identity
from accounts.throttles import AuthIPThrottle, SignupIPThrottle
from accounts.tokens import token_pair
from botgeneric.errors import DomainError
from botgeneric.openapi import ERROR_RESPONSES, ErrorBody
from policy.errors import DenyCode

PROVIDERS = ["google", "apple"]


class SocialLoginInput(serializers.Serializer):
    id_token = serializers.CharField(max_length=8192, help_text="The ID token the provider's SDK returned.")
    name = serializers.CharField(
        max_length=150,
        required=False,
        default="",
        allow_blank=True,
        help_text="Apple gives the person's name to the app once, outside the token: pass it on the first sign-in.",
    )


class SocialLoginView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [AuthIPThrottle]

    @extend_schema(
        summary="Sign in with a Google or Apple ID token",
        description=(
            "Verifies the token against the provider's published keys (signature, `iss`, `aud` = our client "
            "id, `exp`) and answers a JWT pair. A new identity gets an account with its own organization; an "
            "identity whose e-mail the provider verified connects to the account with that address only when "
            "the account has verified it too (otherwise 409 `email_taken`). Token errors: `invalid_token`, "
            "`token_expired`, `invalid_audience`."
        ),
        parameters=[OpenApiParameter("provider", OpenApiTypes.STR, OpenApiParameter.PATH, enum=PROVIDERS)],
        request=SocialLoginInput,
        responses={
            200: TokenPair,
            **ERROR_RESPONSES,
            404: OpenApiResponse(ErrorBody, description="`provider_disabled`: the provider is not configured"),
            409: OpenApiResponse(ErrorBody, description="`email_taken`: the address belongs to an unverified account"),
            502: OpenApiResponse(ErrorBody, description="`provider_unavailable`: the provider's keys are unreachable"),
        },
    )
    def post(self, request, provider: str):
        data = SocialLoginInput(data=request.data)
        data.is_valid(raise_exception=True)
        identity = verify_id_token(provider=provider, token=data.validated_data["id_token"])
        if not identity.name:
            identity = replace(identity, name=data.validated_data["name"].strip())
        if is_new_identity(identity):
            # A new identity is a sign-up (and a trial): it counts against the per-address sign-up limit.
            signup_throttle = SignupIPThrottle()
            if not signup_throttle.allow_request(request, self):
                self.throttled(request, signup_throttle.wait())
        locale = getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE)
        user = sign_in_with_identity(identity=identity, locale=locale)
        if not user.is_active:
            raise DomainError(DenyCode.USER_INACTIVE, "This account is deactivated.", 403)
        return Response(token_pair(user))
