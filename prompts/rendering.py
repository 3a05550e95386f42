"""Safe rendering of user prompt templates.

Templates use `{name}` placeholders and nothing else: no attribute or index access,
no conversions, no format specs. We parse with `string.Formatter().parse` and
substitute ourselves, so user data never reaches `str.format` and nothing in a
template is ever evaluated (`{input.__class__.__mro__}` is refused, not resolved).
"""

from collections.abc import Iterator, Mapping
from string import Formatter
from typing import Any

from prompts.errors import PromptError, PromptErrorCode

REQUIRED_PLACEHOLDER = "input"


def _invalid(reason: str) -> PromptError:
    return PromptError(
        PromptErrorCode.INVALID_TEMPLATE,
        f"Invalid template: {reason}",
        400,
        {"fields": {"template": [reason]}},
    )


def _pieces(template: str) -> Iterator[tuple[str, str | None]]:
    """Yield (literal text, placeholder name or None), refusing anything but plain names."""
    try:
        parsed = list(Formatter().parse(template))
    except ValueError as exc:
        raise _invalid(f"{exc}; write {{{{ and }}}} for literal braces.") from None
    for literal, field_name, format_spec, conversion in parsed:
        if field_name is None:
            yield literal, None
            continue
        if field_name == "" or field_name.isdigit():
            raise _invalid("positional placeholders like {} or {0} are not allowed; use a name such as {input}.")
        if not field_name.isidentifier():
            raise _invalid(
                f"{{{field_name}}} is not a plain name; attribute and index access (. and [ ]) are not allowed."
            )
        if conversion is not None:
            raise _invalid(f"conversions like !{conversion} are not allowed (in {{{field_name}}}).")
        if format_spec:
            raise _invalid(f"format specs like :{format_spec} are not allowed (in {{{field_name}}}).")
        yield literal, field_name


def placeholders(template: str) -> list[str]:
    """The distinct placeholder names of a valid template, in order of first use."""
    names: list[str] = []
    for _, name in _pieces(template):
        if name is not None and name not in names:
            names.append(name)
    return names


def validate_template(template: str) -> None:
    """Raise PromptError (code invalid_template) with the reason if `template` cannot be saved."""
    if REQUIRED_PLACEHOLDER not in placeholders(template):
        raise _invalid("the template must contain the {input} placeholder.")


def render(template: str, *, input: str, variables: Mapping[str, Any] | None = None) -> str:
    """Substitute `{input}` and the caller's variables; unknown extra variables are ignored.

    A placeholder without a value raises PromptError `missing_variable` naming it.
    """
    values = dict(variables or {})
    values[REQUIRED_PLACEHOLDER] = input
    parts: list[str] = []
    for literal, name in _pieces(template):
        parts.append(literal)
        if name is None:
            continue
        if name not in values or values[name] is None:
            raise PromptError(
                PromptErrorCode.MISSING_VARIABLE,
                f"The variable {name!r} is required by this agent's prompt.",
                400,
                {"variable": name},
            )
        parts.append(str(values[name]))
    return "".join(parts)
