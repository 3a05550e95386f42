"""The one exception family services raise, and the registry of every error code a client can see.

Each domain declares its codes as an `ErrorCode` enum in its app's `errors.py`; a `DomainError` carries
one of those members, never a bare string, so the API's `code`, the web's sentences and the bot's
replies all key on the same registered values.
"""

from typing import Any

from django.db import models
from django.utils.module_loading import autodiscover_modules

_domains: list[type["ErrorCode"]] = []


class ErrorCode(models.TextChoices):
    """Base of each domain's code enum: value = the stable code clients switch on, label = default detail."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _domains.append(cls)


class ApiErrorCode(ErrorCode):
    """The codes of the API's own layer: validation, routing, authentication and DRF's answers."""

    INVALID = "invalid", "Invalid input."
    BAD_REQUEST = "bad_request", "The request could not be understood."
    PAYLOAD_TOO_LARGE = "payload_too_large", "The request body is too large."
    PARSE_ERROR = "parse_error", "Malformed request."
    NOT_AUTHENTICATED = "not_authenticated", "Authentication credentials were not provided."
    AUTHENTICATION_FAILED = "authentication_failed", "Incorrect authentication credentials."
    PERMISSION_DENIED = "permission_denied", "You may not do this."
    NOT_FOUND = "not_found", "Not found."
    METHOD_NOT_ALLOWED = "method_not_allowed", "Method not allowed."
    NOT_ACCEPTABLE = "not_acceptable", "Could not satisfy the request Accept header."
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type", "Unsupported media type in the request."
    THROTTLED = "throttled", "Request was throttled."
    SERVER_ERROR = "server_error", "Something went wrong on our side."


def error_domains() -> list[type[ErrorCode]]:
    """Every domain's code enum: each installed app's `errors` module is imported first, as the admin does."""
    autodiscover_modules("errors")
    return list(_domains)


def all_error_codes() -> list[ErrorCode]:
    return [code for domain in error_domains() for code in domain]


class DomainError(Exception):
    """A rule said no. `code` is a registered ErrorCode (clients switch on it); `detail` is for humans."""

    code: ErrorCode
    http_status = 400

    def __init__(
        self,
        code: ErrorCode | None = None,
        detail: str = "",
        http_status: int | None = None,
        extra: dict[str, Any] | None = None,
    ):
        code = code or self.code
        if not isinstance(code, ErrorCode):
            raise TypeError(f"{code!r} is not an ErrorCode: declare it in its domain's errors.py")
        self.code = code
        self.detail = detail or code.value
        self.http_status = http_status or self.http_status
        self.extra = extra or {}
        super().__init__(self.detail)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code.value, "detail": str(self.detail), **self.extra}
