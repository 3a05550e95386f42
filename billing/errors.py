"""The errors billing services raise: one code enum, one exception (mapped to the API's error shape)."""

from django.db import models

from botgeneric.errors import DomainError


class BillingErrorCode(models.TextChoices):
    UNKNOWN_PLAN = "unknown_plan", "Unknown plan"
    PROVIDER_DISABLED = "provider_disabled", "Payment provider disabled"
    PROVIDER_NOT_SUPPORTED = "provider_not_supported", "The provider cannot do this"
    CURRENCY_NOT_OFFERED = "currency_not_offered", "Currency not offered"
    ALREADY_SUBSCRIBED = "already_subscribed", "Already subscribed to this plan"
    NOT_SUBSCRIBED = "not_subscribed", "No current subscription"
    NOT_RESUMABLE = "not_resumable", "Nothing to resume"
    NOT_TRIALING = "not_trialing", "Not in a trial"
    INVALID_PERIODS = "invalid_periods", "Invalid number of periods"
    FORBIDDEN_ROLE = "forbidden_role", "Only the organization's owner or an admin can manage billing"
    PLAN_NOT_PRICED = "plan_not_priced", "The plan has no price"
    BUSY = "billing_busy", "The billing account is busy; try again in a moment"
    CHANGED_MEANWHILE = "changed_meanwhile", "The subscription changed meanwhile; try again"


class BillingError(DomainError):
    code = "billing_error"
    http_status = 400

    def __init__(self, code: BillingErrorCode, detail: str = "", field_name: str | None = None, http_status=None):
        extra = {"fields": {field_name: [detail or code.label]}} if field_name else None
        super().__init__(str(code), detail or code.label, http_status, extra)
