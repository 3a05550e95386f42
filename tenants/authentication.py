"""Organization API keys as DRF authentication: the request acts for the key's organization."""

from rest_framework import authentication, exceptions

from tenants.errors import TenantErrorCode
from tenants.selectors import api_key_from_secret, api_key_principal
from tenants.services import mark_api_key_used


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Api-Key <key>` — the scheme of our own REST API (SPEC §7)."""

    keywords: tuple[str, ...] = ("api-key",)

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _, secret = header.partition(" ")
        if scheme.lower() not in self.keywords:
            return None
        return authenticate_api_key(secret.strip())

    def authenticate_header(self, request):
        return "Api-Key"


class BearerApiKeyAuthentication(ApiKeyAuthentication):
    """`Authorization: Bearer <key>` as OpenAI client libraries send it (and `Api-Key <key>` too).

    Only for the OpenAI-compatible endpoints, where no JWT is accepted, so `Bearer` is unambiguous.
    """

    keywords = ("bearer", "api-key")

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


def authenticate_api_key(secret: str):
    """(user, key) for an active key; 401 for anything else, including a key revoked a moment ago."""
    key = api_key_from_secret(secret)
    if key is None:
        raise exceptions.AuthenticationFailed("Invalid or revoked API key.", code=TenantErrorCode.INVALID_API_KEY)
    user = api_key_principal(key)
    if user is None:
        raise exceptions.AuthenticationFailed(
            "The key's creator is no longer an active member of the organization; create a new key.",
            code=TenantErrorCode.INVALID_API_KEY,
        )
    mark_api_key_used(key=key)
    return user, key
