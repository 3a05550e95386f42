"""API keys of LLM providers: encrypted at rest, never shown back, never logged, never borrowed.

A provider's key is its own: the stored key, or the environment variable it names. Nothing else is
ever sent to its `base_url` — not the global OPENAI_API_KEY, not another provider's key, not one of
the app's own secrets — because an operator-set URL is a place a key can be exfiltrated to.

Stored keys are encrypted with Fernet. The keys that can decrypt them (a MultiFernet, newest first):
FIELD_ENCRYPTION_KEY (Fernet keys, when set), then keys derived from SECRET_KEY and each of
SECRET_KEY_FALLBACKS (HKDF with a purpose label, so a derived key is useless for anything else). New
values are encrypted under the first. Rotating SECRET_KEY: put the old one in SECRET_KEY_FALLBACKS,
run `manage.py rotate_provider_keys`, then drop the fallback. A key nothing can decrypt fails closed.
"""

import base64
import functools
import logging
import os
import re
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ValidationError

from agents.errors import AgentErrorCode
from botgeneric.errors import DomainError

if TYPE_CHECKING:
    from agents.models import LLMProvider

logger = logging.getLogger(__name__)

_PURPOSE = b"bot-generic llm provider api key v1"
# By default a provider may name any variable ending in _API_KEY (OPENAI_API_KEY, OPENROUTER_API_KEY…)
# except these: the app's own secrets, which must never be sent to an operator-set URL.
_ENV_NAME_PATTERN = re.compile(r"[A-Z][A-Z0-9_]*_API_KEY")
APP_SECRET_ENV_NAMES = frozenset(
    {
        "SECRET_KEY",
        "SECRET_KEY_FALLBACKS",
        "FIELD_ENCRYPTION_KEY",
        "DATABASE_URL",
        "REDIS_URL",
        "EMAIL_URL",
        "PADDLE_API_KEY",
        "PADDLE_WEBHOOK_SECRET",
        "YOOKASSA_SECRET_KEY",
        "TELEGRAM_BOT_TOKEN",
        "TELEGRAM_WEBHOOK_SECRET",
        "GOOGLE_CLIENT_SECRET",
        "APPLE_PRIVATE_KEY",
        "METRICS_TOKEN",
        "DEMO_PASSWORD",
    }
)


class ProviderKeyUnavailable(DomainError):
    """The provider's key cannot be used; the call fails rather than borrow another key."""

    code = AgentErrorCode.PROVIDER_KEY_UNAVAILABLE
    http_status = 503


def env_name_allowed(name: str) -> bool:
    """Whether a provider may take its key from the environment variable `name`.

    LLM_KEY_ENV_ALLOWED lists the names allowed; empty means "any name ending in _API_KEY". The app's
    own secrets are refused either way."""
    if name in APP_SECRET_ENV_NAMES:
        return False
    allowed = settings.LLM_KEY_ENV_ALLOWED
    if allowed:
        return name in allowed
    return bool(_ENV_NAME_PATTERN.fullmatch(name))


def validate_key_env_name(name: str) -> None:
    """ValidationError for an environment variable a provider may not read its key from."""
    if name and not env_name_allowed(name):
        allowed = ", ".join(settings.LLM_KEY_ENV_ALLOWED) or "a name ending in _API_KEY"
        raise ValidationError(
            f"{name} cannot hold a provider key: use {allowed} (never one of the app's own secrets).",
            code="key_env_not_allowed",
        )


@functools.lru_cache(maxsize=16)
def _derived_fernet(secret_key: str, purpose: bytes) -> Fernet:
    # Cached: the runtime reads a key on every call, and the derivation only depends on the secret.
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


@functools.lru_cache(maxsize=8)
def _multi_fernet(field_keys: tuple[str, ...], secret_keys: tuple[str, ...], purpose: bytes) -> MultiFernet:
    fernets = [Fernet(key.encode()) for key in field_keys if key]
    fernets += [_derived_fernet(secret, purpose) for secret in secret_keys if secret]
    return MultiFernet(fernets)


def field_encryption(purpose: bytes) -> MultiFernet:
    """The MultiFernet for secrets stored in the database: FIELD_ENCRYPTION_KEY, then keys derived from
    SECRET_KEY and its fallbacks for `purpose` (each kind of secret its own label). Other apps' secrets
    (the customers' bot tokens) use it with their own purpose."""
    field_keys = tuple(settings.FIELD_ENCRYPTION_KEY or ())
    secret_keys = (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS)
    return _multi_fernet(field_keys, secret_keys, purpose)


def _fernet() -> MultiFernet:
    return field_encryption(_PURPOSE)


def set_api_key(provider: "LLMProvider", key: str) -> None:
    """Store `key` encrypted on `provider` (saved at once); an empty key clears it."""
    key = (key or "").strip()
    provider.api_key_encrypted = _fernet().encrypt(key.encode()).decode() if key else ""
    if provider.pk is not None:
        type(provider).objects.filter(pk=provider.pk).update(api_key_encrypted=provider.api_key_encrypted)
    else:
        provider.save()


def has_api_key(provider: "LLMProvider") -> bool:
    """Whether a key is configured (stored or named by environment variable) — all the admin shows."""
    return bool(provider.api_key_encrypted or provider.api_key_env)


def provider_api_key(provider: "LLMProvider") -> str:
    """The plaintext key for the SDK call: the `api_key_env` variable wins, then the stored key; ""
    when the provider has none (a keyless local server).

    Raises ProviderKeyUnavailable for a variable name that is not allowed, or a stored key that no
    configured key can decrypt: never another key in its place."""
    if provider.api_key_env:
        if not env_name_allowed(provider.api_key_env):
            logger.error("LLM provider %s names env var %s, which is not allowed", provider.pk, provider.api_key_env)
            raise ProviderKeyUnavailable(detail="The model provider's key is not configured correctly.")
        from_env = os.environ.get(provider.api_key_env, "")
        if from_env:
            return from_env
        logger.warning("LLM provider %s names env var %s, which is empty", provider.pk, provider.api_key_env)
    if not provider.api_key_encrypted:
        return ""
    try:
        return _fernet().decrypt(provider.api_key_encrypted.encode()).decode()
    except InvalidToken:
        logger.error("LLM provider %s has a key that no configured key decrypts; re-enter it", provider.pk)
        raise ProviderKeyUnavailable(detail="The model provider's key cannot be read.") from None


def rotate_stored_keys() -> tuple[int, list[str]]:
    """Re-encrypt every stored key under the current first key. Returns (rotated, names of providers
    whose key nothing decrypts — left as they are, for the operator to re-enter)."""
    from agents.models import LLMProvider

    fernet = _fernet()
    rotated, unreadable = 0, []
    for provider in LLMProvider.objects.exclude(api_key_encrypted="").order_by("pk"):
        try:
            token = fernet.rotate(provider.api_key_encrypted.encode()).decode()
        except InvalidToken:
            unreadable.append(provider.name)
            continue
        LLMProvider.objects.filter(pk=provider.pk).update(api_key_encrypted=token)
        rotated += 1
    return rotated, unreadable
