"""Writes for prompt management: drafts, activation (and rollback), archiving, duplication.

Every write that depends on the set of an agent's versions (the next version number,
which one is active) locks the agent row first, so concurrent operators serialize on it.
"""

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from agents.models import Agent, LLMProvider
from agents.tools import validate_tool_names
from prompts.errors import PromptError, PromptErrorCode
from prompts.models import CONTENT_FIELDS, LockableParameter, PromptVersion, Status
from prompts.rendering import validate_template
from tenants.services import record_audit

TEMPERATURE_MAX = Decimal("2")


def _invalid(field: str, reason: str) -> PromptError:
    return PromptError(PromptErrorCode.INVALID_VERSION, reason, 400, {"fields": {field: [reason]}})


def clean_content(changes: dict[str, Any]) -> dict[str, Any]:
    """Validate the content fields present in `changes` (services and admin forms share these rules)."""
    unknown = set(changes) - set(CONTENT_FIELDS)
    if unknown:
        raise TypeError(f"Not prompt version fields: {', '.join(sorted(unknown))}")
    cleaned = dict(changes)
    if "system_prompt" in cleaned and not (cleaned["system_prompt"] or "").strip():
        raise _invalid("system_prompt", "The system prompt cannot be empty.")
    if "template" in cleaned:
        validate_template(cleaned["template"])
    if "model" in cleaned and not (cleaned["model"] or "").strip():
        raise _invalid("model", "The model name cannot be empty.")
    if "temperature" in cleaned:
        try:
            temperature = Decimal(str(cleaned["temperature"]))
        except InvalidOperation:
            raise _invalid("temperature", "The temperature must be a number.") from None
        if not Decimal("0") <= temperature <= TEMPERATURE_MAX:
            raise _invalid("temperature", "The temperature must be between 0 and 2.")
        cleaned["temperature"] = temperature
    for name in ("max_tokens", "context_tokens"):
        if name in cleaned and (not isinstance(cleaned[name], int) or cleaned[name] <= 0):
            raise _invalid(name, f"{name} must be a positive whole number.")
    if "locked_parameters" in cleaned:
        locked = cleaned["locked_parameters"] or []
        if not isinstance(locked, list) or not set(locked) <= set(LockableParameter.values):
            raise _invalid("locked_parameters", f"Lockable parameters: {', '.join(LockableParameter.values)}.")
        cleaned["locked_parameters"] = sorted(set(locked))
    if "tools" in cleaned:
        tools = cleaned["tools"] or []
        try:
            validate_tool_names(tools)
        except ValidationError as error:
            raise _invalid("tools", error.messages[0]) from None
        cleaned["tools"] = sorted(set(tools))
    if "provider" in cleaned and cleaned["provider"] is not None and not isinstance(cleaned["provider"], LLMProvider):
        raise TypeError("provider must be an LLMProvider or None")
    return cleaned


def _lock_agent(agent_id: int) -> Agent:
    return Agent.objects.select_for_update().get(pk=agent_id)


def _lock_version(version: PromptVersion) -> PromptVersion:
    return PromptVersion.objects.select_for_update().select_related("agent").get(pk=version.pk)


def create_draft(*, agent: Agent, actor=None, system_prompt: str, **content: Any) -> PromptVersion:
    """Create the agent's next version as a draft; the number is max + 1 under the agent lock."""
    cleaned = clean_content({"system_prompt": system_prompt, **content})
    with transaction.atomic():
        _lock_agent(agent.pk)
        last = PromptVersion.objects.filter(agent_id=agent.pk).order_by("-version").values_list("version", flat=True)
        number = (last.first() or 0) + 1
        return PromptVersion.objects.create(
            agent_id=agent.pk,
            version=number,
            status=Status.DRAFT,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            **cleaned,
        )


def update_draft(*, version: PromptVersion, actor=None, **changes: Any) -> PromptVersion:
    """Change a draft's content. Published (active or archived) versions are immutable."""
    cleaned = clean_content(changes)
    with transaction.atomic():
        locked = _lock_version(version)
        if locked.status != Status.DRAFT:
            raise PromptError(
                PromptErrorCode.VERSION_IMMUTABLE,
                f"Version {locked.version} of {locked.agent} is {locked.status} and cannot be edited; "
                "duplicate it as a new draft instead.",
                409,
            )
        for name, value in cleaned.items():
            setattr(locked, name, value)
        locked.save(update_fields=list(cleaned) or None)
    return locked


def activate_version(*, version: PromptVersion, actor=None) -> PromptVersion:
    """Make `version` the one the runtime uses; the previous active one is archived.

    Activating an older (archived) version is how an operator rolls back; it is audited as
    `prompt.rolled_back`. Activating the version that is already active changes nothing.
    """
    with transaction.atomic():
        _lock_agent(version.agent_id)
        locked = _lock_version(version)
        if locked.status == Status.ACTIVE:
            return locked
        previous = PromptVersion.objects.filter(agent_id=locked.agent_id, status=Status.ACTIVE).first()
        if previous is not None:
            PromptVersion.objects.filter(pk=previous.pk).update(status=Status.ARCHIVED)
        rollback = previous is not None and locked.version < previous.version
        was = locked.status
        locked.status = Status.ACTIVE
        locked.activated_at = timezone.now()
        locked.save(update_fields=["status", "activated_at"])
        record_audit(
            action="prompt.rolled_back" if rollback else "prompt.activated",
            target=locked,
            organization=None,
            actor=actor,
            before={
                "agent": locked.agent.slug,
                "active_version": previous.version if previous else None,
                "status": was,
            },
            after={"agent": locked.agent.slug, "active_version": locked.version},
        )
    return locked


def archive_version(*, version: PromptVersion, actor=None) -> PromptVersion:
    """Retire a draft or the active version. Archiving the active one leaves the agent without a prompt."""
    with transaction.atomic():
        _lock_agent(version.agent_id)
        locked = _lock_version(version)
        if locked.status == Status.ARCHIVED:
            return locked
        was = locked.status
        locked.status = Status.ARCHIVED
        locked.save(update_fields=["status"])
        record_audit(
            action="prompt.archived",
            target=locked,
            organization=None,
            actor=actor,
            before={"agent": locked.agent.slug, "version": locked.version, "status": was},
            after={"agent": locked.agent.slug, "version": locked.version, "status": Status.ARCHIVED},
        )
    return locked


def duplicate_version(*, version: PromptVersion, actor=None) -> PromptVersion:
    """Copy any version's content into a new draft: how a published version gets changed."""
    content = {name: getattr(version, name) for name in CONTENT_FIELDS}
    content["note"] = f"Copy of v{version.version}" + (f": {version.note}" if version.note else "")
    content["note"] = content["note"][: PromptVersion._meta.get_field("note").max_length]
    return create_draft(agent=version.agent, actor=actor, **content)
