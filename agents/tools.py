"""The registry of built-in tools an agent's prompt version may let the model call (function calling).

A tool is a small class: a name, a description and a JSON schema of its arguments for the model, and
`run()`, which does the work with the call's `ToolContext`. Apps add theirs with `@register` when they
load (`leads` registers `register_lead`). A tool that cannot do what it was asked raises ToolError: the
model is told why and the call goes on — a tool never crashes an answer.
"""

import json
import logging
from dataclasses import dataclass
from typing import Any, ClassVar

from django.core.exceptions import ValidationError

logger = logging.getLogger(__name__)


class ToolError(Exception):
    """What the model is told when a tool could not do its job (bad arguments, a rule said no)."""


@dataclass(frozen=True)
class ToolContext:
    """Whom a tool acts for: the organization and member of the call, its conversation, and for a
    deployment's client their contact and deployment."""

    organization_id: int
    user: Any
    conversation: Any = None
    contact_id: int | None = None
    deployment_id: int | None = None


class Tool:
    name: ClassVar[str]
    description: ClassVar[str]
    parameters: ClassVar[dict]

    def run(self, *, arguments: dict, context: ToolContext) -> dict:
        raise NotImplementedError

    @classmethod
    def schema(cls) -> dict:
        """The tool as OpenAI's `tools` parameter lists it."""
        return {
            "type": "function",
            "function": {"name": cls.name, "description": cls.description, "parameters": cls.parameters},
        }


_registry: dict[str, type[Tool]] = {}


def register(tool: type[Tool]) -> type[Tool]:
    _registry[tool.name] = tool
    return tool


def tool_names() -> list[str]:
    return sorted(_registry)


def schemas(names: list[str]) -> list[dict]:
    """The schemas of the named tools that exist (a name removed from the registry is skipped)."""
    return [_registry[name].schema() for name in names if name in _registry]


def validate_tool_names(names) -> None:
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise ValidationError("A list of tool names.")
    unknown = [name for name in names if name not in _registry]
    if unknown:
        raise ValidationError(f"Unknown tool {unknown[0]!r}; choose from {', '.join(tool_names()) or 'none'}.")


def run_tool(*, name: str, arguments: str, context: ToolContext, allowed: list[str]) -> tuple[str, bool]:
    """Run one tool call the model asked for: (the JSON result for the model, whether it succeeded).

    A tool the version does not offer (`allowed`), arguments that are not a JSON object and ToolErrors are
    answered as errors the model can read; any other exception is logged and answered the same way, so
    the answer goes on."""
    tool = _registry.get(name) if name in allowed else None
    if tool is None:
        return json.dumps({"error": f"There is no tool named {name!r}."}), False
    try:
        parsed = json.loads(arguments or "{}")
    except ValueError:
        return json.dumps({"error": "The arguments are not valid JSON."}), False
    if not isinstance(parsed, dict):
        return json.dumps({"error": "The arguments must be a JSON object."}), False
    try:
        result = tool().run(arguments=parsed, context=context)
    except ToolError as error:
        return json.dumps({"error": str(error)}, ensure_ascii=False), False
    except Exception:  # noqa: BLE001 — a failing tool answers the model with an error, never crashes the call
        logger.exception("tool %s failed org=%s", name, context.organization_id)
        return json.dumps({"error": f"The {name} tool failed; tell the user it could not be done now."}), False
    return json.dumps(result, ensure_ascii=False, default=str), True
