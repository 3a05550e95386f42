"""API keys of LLM providers: encrypted at rest, never shown back, never logged.

The key is encrypted with Fernet under a key derived from SECRET_KEY (HKDF with a
purpose label, so the derived key is useless for anything else). Rotating SECRET_KEY
makes stored keys unreadable: the operator re-enters them, or uses `api_key_env`.
"""

import base64
import functools
import logging
import os

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from agents.models import LLMProvider

logger = logging.getLogger(__name__)

_PURPOSE = b"bot-generic llm provider api key v1"


@functools.lru_cache(maxsize=4)
def _fernet_for(secret_key: str) -> Fernet:
    # Cached: the runtime reads a key on every call, and the derivation only depends on SECRET_KEY.
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def _fernet() -> Fernet:
    return _fernet_for(settings.SECRET_KEY)


def set_api_key(provider: LLMProvider, key: str) -> None:
    """Store `key` encrypted on `provider` (saved at once); an empty key clears it."""
    key = (key or "").strip()
    provider.api_key_encrypted = _fernet().encrypt(key.encode()).decode() if key else ""
    if provider.pk is not None:
        LLMProvider.objects.filter(pk=provider.pk).update(api_key_encrypted=provider.api_key_encrypted)
    else:
        provider.save()


def has_api_key(provider: LLMProvider) -> bool:
    """Whether a key is configured (stored or named by environment variable) — all the admin shows."""
    return bool(provider.api_key_encrypted or provider.api_key_env)


def provider_api_key(provider: LLMProvider) -> str:
    """The plaintext key for the SDK call: the `api_key_env` variable wins, then the stored key."""
    if provider.api_key_env:
        from_env = os.environ.get(provider.api_key_env, "")
        if from_env:
            return from_env
        logger.warning("LLM provider %s names env var %s, which is empty", provider.pk, provider.api_key_env)
    if not provider.api_key_encrypted:
        return ""
    try:
        return _fernet().decrypt(provider.api_key_encrypted.encode()).decode()
    except InvalidToken:
        logger.error("LLM provider %s has a key that SECRET_KEY cannot decrypt; re-enter it", provider.pk)
        return ""
