"""The errors billing services raise: one code enum, one exception (mapped to the API's error shape)."""

from botgeneric.errors import DomainError, ErrorCode


class BillingErrorCode(ErrorCode):
    UNKNOWN_PLAN = "unknown_plan", "Unknown plan"
    PROVIDER_DISABLED = "provider_disabled", "Payment provider disabled"
    PROVIDER_NOT_SUPPORTED = "provider_not_supported", "The provider cannot do this"
    CURRENCY_NOT_OFFERED = "currency_not_offered", "Currency not offered"
    ALREADY_SUBSCRIBED = "already_subscribed", "Already subscribed to this plan"
    NOT_SUBSCRIBED = "not_subscribed", "No current subscription"
    NOT_RESUMABLE = "not_resumable", "Nothing to resume"
    NOT_TRIALING = "not_trialing", "Not in a trial"
    INVALID_PERIODS = "invalid_periods", "Invalid number of periods"
    PLAN_NOT_PRICED = "plan_not_priced", "The plan has no price"
    BUSY = "billing_busy", "The billing account is busy; try again in a moment"
    CHANGED_MEANWHILE = "changed_meanwhile", "The subscription changed meanwhile; try again"
    NO_DOWNGRADE_SCHEDULED = "no_downgrade_scheduled", "No downgrade is scheduled"
    # The confirmation a preview gives and a change must carry.
    CONFIRMATION_REQUIRED = "confirmation_required", "Preview the change first and send its confirmation"
    CONFIRMATION_INVALID = "confirmation_invalid", "The confirmation is not valid for this change"
    CONFIRMATION_STALE = "confirmation_stale", "The preview no longer matches; preview the change again"
    # The payment providers and their webhooks.
    PROVIDER_ERROR = "provider_error", "The payment provider failed; nothing changed"
    PROVIDER_TIMEOUT = "provider_timeout", "The payment provider did not answer in time; nothing changed"
    PAYMENT_NOT_FOUND = "payment_not_found", "The provider has no such payment"
    WEBHOOK_REJECTED = "webhook_rejected", "The notification failed verification"
    INVALID_SIGNATURE = "invalid_signature", "The notification's signature is missing, wrong or too old"
    INVALID_PAYLOAD = "invalid_payload", "Not a notification of this provider"
    UNTRUSTED_SOURCE = "untrusted_source", "The notification came from an address the provider does not use"
    EVENT_REFUSED = "event_refused", "The event is verified but not applied"
    WEBHOOK_FAILED = "webhook_failed", "Processing failed; the event is stored and will be retried."


class BillingError(DomainError):
    http_status = 400

    def __init__(self, code: ErrorCode, detail: str = "", field_name: str | None = None, http_status=None):
        extra = {"fields": {field_name: [detail or code.label]}} if field_name else None
        super().__init__(code, detail or code.label, http_status, extra)
