"""Google and Apple ID tokens that a mobile or single-page client got from the provider's SDK.

A token proves an identity only when every check passes: an RS256 signature by a key in the
provider's published key set (JWKS), `iss` the provider, `aud` one of our client ids (the app
configured for allauth, so the web and the token exchange share one configuration), `exp` in the
future. Each failure has its own code so a client knows whether to get a new token or fix its setup.
This module only translates the token into a `ProviderIdentity`; what the identity may sign in to is
decided in `accounts.social`.
"""

import logging

import jwt
from allauth.socialaccount import app_settings as socialaccount_settings
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialApp
from django.conf import settings

from accounts.errors import AccountErrorCode
from accounts.social import ProviderIdentity, identity_name
from billing.errors import BillingErrorCode
from botgeneric.errors import DomainError

logger = logging.getLogger(__name__)

# Google's tokens say either form of its issuer; Apple's one.
ISSUERS = {
    "google": ("https://accounts.google.com", "accounts.google.com"),
    "apple": ("https://appleid.apple.com",),
}
JWKS_URL_SETTINGS = {"google": "GOOGLE_JWKS_URL", "apple": "APPLE_JWKS_URL"}
# A minute of clock difference between us and the provider is not an expired token.
CLOCK_SKEW_SECONDS = 60


class IdTokenError(DomainError):
    code = AccountErrorCode.INVALID_TOKEN
    http_status = 400


_jwks_clients: dict[str, jwt.PyJWKClient] = {}


def _jwks_client(url: str) -> jwt.PyJWKClient:
    """One client per key-set URL and process: keys are cached for an hour, and an unknown `kid`
    (the provider rotated its keys) refetches the set."""
    client = _jwks_clients.get(url)
    if client is None:
        client = jwt.PyJWKClient(url, cache_keys=True, lifespan=3600, timeout=socialaccount_settings.REQUESTS_TIMEOUT)
        client = _jwks_clients.setdefault(url, client)
    return client


def client_ids(provider: str) -> list[str]:
    """Our client ids at the provider (the `aud` its tokens must carry); `provider_disabled` when the
    provider is not configured. Apple's may list several, comma-separated (web Services ID, app ids)."""
    try:
        app = get_adapter().get_app(None, provider)
    except SocialApp.DoesNotExist:
        raise DomainError(
            BillingErrorCode.PROVIDER_DISABLED, f"Sign-in with {provider.title()} is not enabled.", 404
        ) from None
    return [client_id.strip() for client_id in app.client_id.split(",") if client_id.strip()]


def _is_true(value) -> bool:
    # Apple sends `email_verified` as the string "true" or "false"; Google as a boolean.
    return value is True or (isinstance(value, str) and value.lower() == "true")


def verify_id_token(*, provider: str, token: str) -> ProviderIdentity:
    """The identity in a verified token, or IdTokenError. Fetches the key set (cached): call it
    outside any transaction."""
    audiences = client_ids(provider)
    label = provider.title()
    try:
        signing_key = _jwks_client(getattr(settings, JWKS_URL_SETTINGS[provider])).get_signing_key_from_jwt(token)
    except jwt.PyJWKClientConnectionError as exc:
        logger.warning("%s key set unreachable: %s", label, exc)
        raise IdTokenError(
            AccountErrorCode.PROVIDER_UNAVAILABLE,
            f"{label}'s signing keys could not be fetched; try again shortly.",
            502,
        ) from None
    except jwt.PyJWTError:
        raise IdTokenError(AccountErrorCode.INVALID_TOKEN, f"This is not an ID token signed by {label}.") from None
    try:
        claims = jwt.decode(
            token,
            signing_key.key,
            algorithms=["RS256"],
            audience=audiences,
            issuer=ISSUERS[provider],
            leeway=CLOCK_SKEW_SECONDS,
            options={"require": ["iss", "aud", "exp", "iat", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise IdTokenError(
            AccountErrorCode.TOKEN_EXPIRED, f"The {label} ID token has expired; get a new one."
        ) from None
    except jwt.InvalidAudienceError:
        raise IdTokenError(
            AccountErrorCode.INVALID_AUDIENCE,
            f"The {label} ID token was issued to another app, not to this service's client id.",
        ) from None
    except jwt.InvalidIssuerError:
        raise IdTokenError(AccountErrorCode.INVALID_TOKEN, f"The ID token was not issued by {label}.") from None
    except jwt.PyJWTError as exc:
        raise IdTokenError(AccountErrorCode.INVALID_TOKEN, f"The {label} ID token is invalid: {exc}.") from None
    return ProviderIdentity(
        provider=provider,
        uid=str(claims["sub"]),
        email=claims.get("email") or None,
        email_verified=_is_true(claims.get("email_verified")),
        name=identity_name(claims),
        claims=claims,
    )
