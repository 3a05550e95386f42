"""Error codes of organizations, roles and API keys."""

from botgeneric.errors import ErrorCode


class TenantErrorCode(ErrorCode):
    FORBIDDEN_ROLE = "forbidden_role", "Your role in the organization does not allow this"
    SESSION_REQUIRED = "session_required", "This needs a signed-in user, not an API key"
    INSUFFICIENT_SCOPE = "insufficient_scope", "The API key lacks the scope this needs"
    INVALID_API_KEY = "invalid_api_key", "Invalid or revoked API key."
    # Members and invitations.
    ALREADY_MEMBER = "already_member", "This person is already a member of the organization."
    INVITATION_INVALID = "invitation_invalid", "This invitation link is not valid."
    INVITATION_EXPIRED = "invitation_expired", "This invitation has expired."
    INVITATION_USED = "invitation_used", "This invitation has already been used."
    INVITATION_REVOKED = "invitation_revoked", "This invitation was withdrawn."
    INVITATION_EMAIL_MISMATCH = "invitation_email_mismatch", "This invitation is for another e-mail address."
    INVITATION_EMAIL_UNVERIFIED = "invitation_email_unverified", "Verify your e-mail address to accept an invitation."
    ORGANIZATION_NOT_EMPTY = (
        "organization_not_empty",
        "Your current organization has data or people of its own, so you cannot move to another one.",
    )
