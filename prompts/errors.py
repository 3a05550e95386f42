"""Errors of prompt management; channels and the admin turn the codes into words."""

from botgeneric.errors import DomainError, ErrorCode


class PromptErrorCode(ErrorCode):
    INVALID_TEMPLATE = "invalid_template", "Invalid template"
    MISSING_VARIABLE = "missing_variable", "Missing variable"
    VERSION_IMMUTABLE = "version_immutable", "Version is immutable"
    INVALID_VERSION = "invalid_version", "Invalid version settings"


class PromptError(DomainError):
    """A prompt rule said no (bad template, missing variable, edit of a published version)."""

    code = PromptErrorCode.INVALID_TEMPLATE
    http_status = 400
