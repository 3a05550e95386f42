"""Reads for prompt management."""

from agents.models import Agent
from prompts.models import PromptVersion, Status


def active_version(*, agent: Agent) -> PromptVersion | None:
    """The version the runtime uses for `agent` (provider joined), or None if none is active."""
    return PromptVersion.objects.select_related("provider").filter(agent_id=agent.pk, status=Status.ACTIVE).first()
