"""Error codes of organizations, roles and API keys."""

from botgeneric.errors import ErrorCode


class TenantErrorCode(ErrorCode):
    FORBIDDEN_ROLE = "forbidden_role", "Your role in the organization does not allow this"
    SESSION_REQUIRED = "session_required", "This needs a signed-in user, not an API key"
    INSUFFICIENT_SCOPE = "insufficient_scope", "The API key lacks the scope this needs"
    INVALID_API_KEY = "invalid_api_key", "Invalid or revoked API key."
