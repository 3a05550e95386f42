"""Error codes of data exports and of deleting an organization or an account."""

from botgeneric.errors import ErrorCode


class PrivacyErrorCode(ErrorCode):
    EXPORT_IN_PROGRESS = "export_in_progress", "An export of this organization is already being prepared."
    EXPORT_EXPIRED = "export_expired", "This export has expired; request a new one."
    NOT_PENDING_DELETION = "not_pending_deletion", "The organization is not scheduled for deletion."
    ALREADY_PENDING_DELETION = "already_pending_deletion", "The organization is already scheduled for deletion."
