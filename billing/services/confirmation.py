"""The confirmation a preview gives and a customer's change must carry (README "Billing changes").

A token signed with django.core.signing (salted, SECRET_KEY) that binds the organization, what was
asked (subscribe to a plan through a provider, or cancel) and what the preview answered (amounts,
what is lost, the account state it was computed from); it expires after
BILLING_CONFIRMATION_MAX_AGE_SECONDS. The change recomputes the preview from the locked account: a
token for something else is `confirmation_invalid` (400), an expired one or one whose preview no longer
matches is `confirmation_stale` (409).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.utils import timezone

from billing.errors import BillingError, BillingErrorCode
from billing.models import BillingAccount, Plan
from billing.services.accounts import check_can_manage
from billing.services.preview import Preview, preview_cancellation, preview_subscription
from billing.services.pricing import check_provider, resolve_plan, resolve_price
from tenants.models import Organization

SALT = "billing.change-confirmation"
FIELD = "confirmation"


def subscription_request(*, plan_code: str, provider: str) -> dict:
    return {"op": "subscribe", "plan": plan_code, "provider": provider}


def cancellation_request(*, immediate: bool) -> dict:
    return {"op": "cancel", "immediate": immediate}


def confirmation_token(preview: Preview, request: dict) -> str:
    return signing.dumps(
        {"org": preview.organization_id, "request": request, "outcome": preview.outcome()}, salt=SALT, compress=True
    )


def expires_at(now: datetime) -> datetime:
    return now + timedelta(seconds=settings.BILLING_CONFIRMATION_MAX_AGE_SECONDS)


def check_confirmation(token: str | None, *, preview: Preview, request: dict) -> None:
    """Refuse the change unless `token` confirms exactly this preview of this request."""
    if not token:
        raise BillingError(
            BillingErrorCode.CONFIRMATION_REQUIRED,
            "Preview the change (POST /api/v1/billing/preview) and send its confirmation.",
            FIELD,
        )
    try:
        signed = signing.loads(token, salt=SALT, max_age=settings.BILLING_CONFIRMATION_MAX_AGE_SECONDS)
    except signing.SignatureExpired:
        raise BillingError(
            BillingErrorCode.CONFIRMATION_STALE, "The confirmation expired; preview the change again.", FIELD, 409
        ) from None
    except signing.BadSignature:
        raise BillingError(BillingErrorCode.CONFIRMATION_INVALID, "The confirmation is not valid.", FIELD) from None
    if not isinstance(signed, dict) or (signed.get("org"), signed.get("request")) != (
        preview.organization_id,
        request,
    ):
        raise BillingError(
            BillingErrorCode.CONFIRMATION_INVALID, "The confirmation was given for another change.", FIELD
        )
    if signed.get("outcome") != preview.outcome():
        raise BillingError(
            BillingErrorCode.CONFIRMATION_STALE,
            "The subscription or the prices changed since the preview; preview the change again.",
            FIELD,
            409,
        )


@dataclass(frozen=True)
class ConfirmablePreview:
    """A preview with the confirmation token the change must carry, valid until `expires_at`."""

    preview: Preview
    confirmation: str
    expires_at: datetime


def preview_change(
    *,
    organization: Organization,
    actor,
    cancel: bool = False,
    immediate: bool = False,
    plan: Plan | str | None = None,
    provider: str = "",
    currency: str | None = None,
) -> ConfirmablePreview:
    """Preview subscribing to `plan` through `provider` (or, with `cancel`, cancelling) for `actor`,
    the organization's owner or admin, with its confirmation. Reads only; refuses what the change
    itself would refuse (unknown plan, provider off, nothing to cancel…)."""
    check_can_manage(actor=actor, organization=organization)
    account = BillingAccount.objects.select_related("plan", "scheduled_plan").filter(organization=organization).first()
    account = account or BillingAccount(organization=organization)
    now = timezone.now()
    if cancel:
        preview = preview_cancellation(account, immediate=immediate, now=now)
        request = cancellation_request(immediate=immediate)
    else:
        plan = resolve_plan(plan)
        check_provider(provider=provider, plan=plan)
        price = resolve_price(plan=plan, provider=provider, currency=currency, account=account)
        preview = preview_subscription(account, plan=plan, provider=provider, price=price, now=now)
        request = subscription_request(plan_code=plan.code, provider=provider)
    return ConfirmablePreview(preview, confirmation_token(preview, request), expires_at(now))
