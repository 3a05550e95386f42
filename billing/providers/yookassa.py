"""YooKassa through the official `yookassa` SDK.

Payments are created with an Idempotence-Key and a redirect confirmation, and save the payment
method so that billing_tick can charge renewals. Notifications carry no signature: we accept
them only from YooKassa's published IP ranges and then re-fetch the payment from the API,
trusting only that answer.
"""

import ipaddress
import json
import logging
from decimal import Decimal

import requests
from django.conf import settings
from yookassa import Configuration
from yookassa import Payment as YooPayment
from yookassa.domain.exceptions import ApiError

from accounts.models import Role
from billing.models import BillingAccount, Payment, PaymentProvider, PaymentStatus, Plan, WebhookOutcome
from billing.providers.base import (
    Charge,
    Checkout,
    EventRefused,
    PaymentBackend,
    ProviderError,
    VerifiedEvent,
    WebhookRejected,
)

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.yookassa.ru/v3"
REMOTE_STATUS = {
    "succeeded": PaymentStatus.SUCCEEDED,
    "canceled": PaymentStatus.CANCELED,
    "pending": PaymentStatus.PENDING,
    "waiting_for_capture": PaymentStatus.PENDING,
}
# SDK failures: API errors, transport errors, and the AttributeError its error handler raises
# when the connection failed before any response existed.
SDK_ERRORS = (ApiError, requests.RequestException, AttributeError, ValueError)


def client_ip(request) -> str:
    """The address that connected to us, or, behind N trusted proxies, the N-th from the right in X-Forwarded-For."""
    hops = settings.YOOKASSA_TRUSTED_PROXY_HOPS
    if hops <= 0:
        return request.META.get("REMOTE_ADDR", "")
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    return forwarded[-hops] if len(forwarded) >= hops else ""


def is_trusted_ip(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(network, strict=False) for network in settings.YOOKASSA_TRUSTED_IPS)


class YooKassaBackend(PaymentBackend):
    name = PaymentProvider.YOOKASSA
    currencies = frozenset({"RUB"})

    @classmethod
    def is_configured(cls) -> bool:
        return bool(settings.YOOKASSA_SHOP_ID and settings.YOOKASSA_SECRET_KEY)

    def _configure(self) -> None:
        # The SDK keeps its configuration on a class; setting it before each call keeps
        # settings overrides (tests, reconfiguration) effective.
        Configuration.configure(
            settings.YOOKASSA_SHOP_ID,
            settings.YOOKASSA_SECRET_KEY,
            api_url=settings.YOOKASSA_API_URL.rstrip("/") or DEFAULT_API_URL,
            max_attempts=1,
        )

    def _receipt(self, account: BillingAccount, plan: Plan, amount: Decimal, currency: str) -> dict | None:
        """A 54-FZ receipt (YOOKASSA_RECEIPTS=1): one service line, sent to the organization owner's e-mail."""
        if not settings.YOOKASSA_RECEIPTS:
            return None
        owner = account.organization.members.filter(role=Role.OWNER, email__isnull=False).order_by("pk").first()
        return {
            "customer": {"email": owner.email if owner else settings.DEFAULT_FROM_EMAIL},
            "items": [
                {
                    "description": (plan.name_ru or plan.name)[:128],
                    "quantity": "1.00",
                    "amount": {"value": f"{amount:.2f}", "currency": currency},
                    "vat_code": settings.YOOKASSA_VAT_CODE,
                    "payment_mode": "full_payment",
                    "payment_subject": "service",
                }
            ],
        }

    def _create(self, params: dict, idempotence_key: str):
        self._configure()
        try:
            return YooPayment.create(params, idempotence_key)
        except SDK_ERRORS as exc:
            logger.warning("yookassa payment create failed: %s", exc)
            raise ProviderError(detail="YooKassa did not accept the payment; nothing was charged.") from None

    def start_checkout(self, *, account, plan, price, payment, return_url) -> Checkout:
        params = {
            "amount": {"value": f"{price.amount:.2f}", "currency": price.currency},
            "capture": True,
            "confirmation": {"type": "redirect", "return_url": return_url},
            "save_payment_method": True,
            "description": f"{plan.name} · {account.organization.name}"[:128],
            "metadata": {"account_id": str(account.pk), "plan": plan.code, "payment_id": str(payment.pk)},
        }
        receipt = self._receipt(account, plan, price.amount, price.currency)
        if receipt:
            params["receipt"] = receipt
        remote = self._create(params, f"checkout-{payment.pk}")
        return Checkout(
            external_id=remote.id,
            confirmation_url=remote.confirmation.confirmation_url,
            raw={"id": remote.id, "status": remote.status},
        )

    def charge_saved_method(self, *, account, plan, price, idempotence_key, period) -> Charge:
        params = {
            "amount": {"value": f"{price.amount:.2f}", "currency": price.currency},
            "capture": True,
            "payment_method_id": account.provider_payment_method_id,
            "description": f"{plan.name} · {account.organization.name}"[:128],
            "metadata": {"account_id": str(account.pk), "plan": plan.code, "period_start": period[0].isoformat()},
        }
        receipt = self._receipt(account, plan, price.amount, price.currency)
        if receipt:
            params["receipt"] = receipt
        remote = self._create(params, idempotence_key)
        return Charge(
            external_id=remote.id,
            status=REMOTE_STATUS.get(remote.status, PaymentStatus.PENDING),
            amount=Decimal(str(remote.amount.value)),
            currency=remote.amount.currency,
            raw={"id": remote.id, "status": remote.status},
        )

    # --- notifications ---------------------------------------------------------------------------

    def verify_webhook(self, request) -> VerifiedEvent:
        address = client_ip(request)
        if not is_trusted_ip(address):
            logger.warning("yookassa notification from untrusted address %r refused", address)
            raise WebhookRejected("untrusted_source", "Notifications are accepted only from YooKassa.", 403)
        try:
            payload = json.loads(request.body)
            event_type = str(payload["event"])
            object_id = str(payload["object"]["id"])
        except (ValueError, KeyError, TypeError):
            raise WebhookRejected("invalid_payload", "Not a YooKassa notification.", 400) from None
        # YooKassa notifications have no id of their own; one event per object is what it sends.
        return VerifiedEvent(event_id=f"{event_type}:{object_id}", event_type=event_type, payload=payload)

    def process_event(self, event) -> str:
        from billing.services import apply_succeeded_payment, record_failed_payment

        if not event.event_type.startswith("payment."):
            return WebhookOutcome.IGNORED
        self._configure()
        try:
            remote = YooPayment.find_one(str(event.payload["object"]["id"]))
        except SDK_ERRORS as exc:
            raise ProviderError(detail=f"could not re-fetch the payment from YooKassa: {exc}") from None
        remote_data = json.loads(remote.json())
        payment = self._payment_for(remote_data)
        if payment is None:
            logger.warning("yookassa payment %s matches no billing account", remote.id)
            return WebhookOutcome.IGNORED
        amount = Decimal(str(remote_data["amount"]["value"]))
        currency = remote_data["amount"]["currency"]
        if (amount, currency) != (payment.amount, payment.currency):
            raise EventRefused(
                payment.account,
                f"amount {amount} {currency} does not match our price {payment.amount} {payment.currency}",
            )
        label = f"webhook:{self.name}:{event.event_id}"
        status = REMOTE_STATUS.get(remote_data.get("status"), PaymentStatus.PENDING)
        if status == PaymentStatus.SUCCEEDED:
            method = remote_data.get("payment_method") or {}
            apply_succeeded_payment(
                payment=payment,
                actor_label=label,
                period_start=payment.period_start,
                period_end=payment.period_end,
                payment_method_id=method.get("id", "") if method.get("saved") else "",
                raw=remote_data,
            )
            return WebhookOutcome.PROCESSED
        if status == PaymentStatus.CANCELED:
            record_failed_payment(payment=payment, status=PaymentStatus.CANCELED, actor_label=label, raw=remote_data)
            return WebhookOutcome.PROCESSED
        # The API does not (yet) confirm what the notification claims: change nothing, keep it retryable.
        return WebhookOutcome.IGNORED

    def _payment_for(self, remote: dict) -> Payment | None:
        """Our row for the remote payment; a payment we did not create must name one of our accounts."""
        payment = Payment.objects.filter(provider=self.name, external_id=remote["id"]).first()
        if payment is not None:
            return payment
        metadata = remote.get("metadata") or {}
        account_id = str(metadata.get("account_id", ""))
        plan = Plan.objects.filter(code=metadata.get("plan", "")).first()
        account = BillingAccount.objects.filter(pk=int(account_id)).first() if account_id.isdigit() else None
        if account is None or plan is None:
            return None
        price = plan.prices.filter(currency=remote["amount"]["currency"]).first()
        if price is None:
            raise EventRefused(account, f"{plan.code} has no {remote['amount']['currency']} price")
        payment, _ = Payment.objects.get_or_create(
            provider=self.name,
            external_id=remote["id"],
            defaults={"account": account, "amount": price.amount, "currency": price.currency, "plan": plan},
        )
        return payment
