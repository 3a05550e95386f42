"""Writes for billing: the subscription lifecycle of SPEC §6, split by concern.

`subscriptions` (customer and operator actions), `payments` (checkouts and confirmed payments),
`preview` and `confirmation` (what a change would do, and the token a customer's change carries),
`provider_sync` (agreeing with a provider's own state), `provider_events` (what a provider's report
means for our accounts), `webhooks` (storing and processing notifications) and `tick` (closing
ended periods, reconciling pending payments). Every provider call happens between two short
`billing_transaction`s, never inside one. The names callers use are importable from here.
"""

from billing.errors import BillingError, BillingErrorCode
from billing.services.accounts import lock_account, snapshot
from billing.services.confirmation import ConfirmablePreview, preview_change
from billing.services.payments import apply_succeeded_payment, record_failed_payment, start_payment
from billing.services.pricing import plan_is_free, resolve_plan, resolve_price
from billing.services.provider_sync import note_provider_event, stop_replaced_subscription, sync_provider_state
from billing.services.subscriptions import (
    SubscribeResult,
    cancel,
    cancel_by_operator,
    extend_trial,
    grant_plan,
    resume,
    start_trial,
    subscribe,
    undo_downgrade,
)
from billing.services.tick import TICK_ACTOR, TickResult, run_billing_tick

__all__ = [
    "TICK_ACTOR",
    "BillingError",
    "BillingErrorCode",
    "ConfirmablePreview",
    "SubscribeResult",
    "TickResult",
    "apply_succeeded_payment",
    "cancel",
    "cancel_by_operator",
    "extend_trial",
    "grant_plan",
    "lock_account",
    "note_provider_event",
    "plan_is_free",
    "preview_change",
    "record_failed_payment",
    "resolve_plan",
    "resolve_price",
    "resume",
    "run_billing_tick",
    "snapshot",
    "start_payment",
    "start_trial",
    "stop_replaced_subscription",
    "subscribe",
    "sync_provider_state",
    "undo_downgrade",
]
