"""Operator writes of LLM providers and their keys, audited (the key itself never enters an audit row)."""

from django.db import transaction

from agents.models import LLMProvider
from agents.provider_keys import set_api_key
from tenants.services import delete_audited, record_audit, save_audited

PROVIDER_FIELDS = [
    "name",
    "kind",
    "base_url",
    "api_key_env",
    "timeout",
    "max_retries",
    "first_token_timeout",
    "total_timeout",
    "is_default",
]


def save_provider(*, provider: LLMProvider, actor, new_key: str | None = None) -> LLMProvider:
    """Save the provider's settings; `new_key` replaces the stored key ("" removes it, None keeps it).

    A key change is its own audit row, `provider.key_set` or `provider.key_removed`, with no key in it."""
    with transaction.atomic():
        save_audited(instance=provider, fields=PROVIDER_FIELDS, action_prefix="provider", actor=actor)
        if new_key is not None:
            set_api_key(provider, new_key)
            action = "provider.key_set" if provider.api_key_encrypted else "provider.key_removed"
            record_audit(action=action, target=provider, actor=actor)
    return provider


def delete_provider(*, provider: LLMProvider, actor) -> None:
    delete_audited(instance=provider, fields=PROVIDER_FIELDS, action_prefix="provider", actor=actor)
