"""JWTs that die together: each carries the user's `token_version`, and a token whose version is behind
the user's is refused on authentication and on refresh (see `accounts.services.revoke_tokens`)."""

from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import RefreshToken, Token

from accounts.errors import AccountErrorCode
from accounts.models import User

TOKEN_VERSION_CLAIM = "ver"
REVOKED = "This token was revoked (password change, new sign-in method or deactivation). Sign in again."


class VersionedRefreshToken(RefreshToken):
    """A refresh token with the user's token version; its access tokens copy the claim."""

    @classmethod
    def for_user(cls, user: User) -> "VersionedRefreshToken":
        token = super().for_user(user)
        token[TOKEN_VERSION_CLAIM] = user.token_version
        return token


def token_pair(user: User) -> dict[str, str]:
    refresh = VersionedRefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def is_current(token: Token, user: User) -> bool:
    # Tokens minted before versions existed carry none and count as version 0.
    return token.get(TOKEN_VERSION_CLAIM, 0) == user.token_version


class VersionedJWTAuthentication(JWTAuthentication):
    def get_user(self, validated_token: Token) -> User:
        user = super().get_user(validated_token)
        if not is_current(validated_token, user):
            raise AuthenticationFailed(REVOKED, code=AccountErrorCode.TOKEN_NOT_VALID)
        return user


class VersionedTokenRefreshSerializer(TokenRefreshSerializer):
    """Refresh only a current token of an existing user; the rotated token keeps the version claim."""

    token_class = VersionedRefreshToken

    def validate(self, attrs: dict) -> dict:
        refresh = self.token_class(attrs["refresh"])
        user = User.objects.filter(**{api_settings.USER_ID_FIELD: refresh.get(api_settings.USER_ID_CLAIM)}).first()
        if user is None:
            raise InvalidToken("The token's user no longer exists.")
        if not is_current(refresh, user):
            raise InvalidToken(REVOKED)
        return super().validate(attrs)
