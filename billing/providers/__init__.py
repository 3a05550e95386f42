"""Payment providers. Several can be enabled at once; each is enabled by its environment variables."""

import logging

from billing.providers.base import PaymentBackend
from billing.providers.manual import ManualBackend
from billing.providers.paddle import PaddleBackend
from billing.providers.yookassa import YooKassaBackend

logger = logging.getLogger(__name__)

BACKENDS: dict[str, type[PaymentBackend]] = {
    backend.name: backend for backend in (ManualBackend, PaddleBackend, YooKassaBackend)
}


def enabled_providers() -> list[str]:
    """Names of the providers a customer can pay with right now (their configuration is present)."""
    return [name for name, backend in BACKENDS.items() if backend.is_configured()]


def get_backend(name: str) -> PaymentBackend | None:
    """The provider called `name` whether enabled or not (an old subscription may still need cancelling)."""
    backend = BACKENDS.get(name)
    return backend() if backend else None


def log_disabled_providers() -> None:
    """Say once, at start-up, which providers are off and why, so a missing variable is noticed."""
    for name, backend in BACKENDS.items():
        if not backend.is_configured():
            logger.info("billing provider %s is disabled: its environment variables are not set", name)
