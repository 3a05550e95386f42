"""Deny codes of SPEC §5, in the order authorize() checks them."""

from botgeneric.errors import DomainError, ErrorCode


class DenyCode(ErrorCode):
    USER_INACTIVE = "user_inactive", "User is inactive"
    AGENT_NOT_FOUND = "agent_not_found", "Agent not found"
    NO_SUBSCRIPTION = "no_subscription", "No subscription"
    SUBSCRIPTION_INACTIVE = "subscription_inactive", "Subscription inactive"
    AGENT_NOT_IN_PLAN = "agent_not_in_plan", "Agent not in plan"
    CHANNEL_NOT_ALLOWED = "channel_not_allowed", "Channel not allowed"
    RATE_LIMITED = "rate_limited", "Rate limited"
    QUOTA_EXCEEDED = "quota_exceeded", "Quota exceeded"
    EMAIL_UNVERIFIED = "email_unverified", "E-mail not verified"
    FEATURE_NOT_IN_PLAN = "feature_not_in_plan", "Feature not in plan"
    ORGANIZATION_PENDING_DELETION = "organization_pending_deletion", "The organization is scheduled for deletion"
    SEATS_EXHAUSTED = "seats_exhausted", "No seats left on the plan"


DENY_STATUS = {
    DenyCode.USER_INACTIVE: 403,
    DenyCode.AGENT_NOT_FOUND: 404,
    DenyCode.NO_SUBSCRIPTION: 402,
    DenyCode.SUBSCRIPTION_INACTIVE: 402,
    DenyCode.AGENT_NOT_IN_PLAN: 403,
    DenyCode.CHANNEL_NOT_ALLOWED: 403,
    DenyCode.RATE_LIMITED: 429,
    DenyCode.QUOTA_EXCEEDED: 429,
    DenyCode.EMAIL_UNVERIFIED: 403,
    DenyCode.FEATURE_NOT_IN_PLAN: 403,
    DenyCode.ORGANIZATION_PENDING_DELETION: 403,
    DenyCode.SEATS_EXHAUSTED: 403,
}


class PolicyDenied(DomainError):
    """authorize() said no. `extra` carries what a channel needs to explain it in words."""

    def __init__(self, code: DenyCode, detail: str = "", extra: dict | None = None):
        super().__init__(code=code, detail=detail or code.label, http_status=DENY_STATUS[code], extra=extra)
