"""YooKassa through the official `yookassa` SDK.

Payments are created with an Idempotence-Key and a redirect confirmation, and save the payment
method so that billing_tick can charge renewals. Notifications carry no signature: we accept
them only from YooKassa's published IP ranges and then re-fetch the payment from the API,
trusting only that answer.
"""

import functools
import ipaddress
import json
import logging
from decimal import Decimal

import requests
from django.conf import settings
from yookassa import Configuration
from yookassa import Payment as YooPayment
from yookassa.client import ApiClient
from yookassa.domain.exceptions import ApiError, NotFoundError

from billing.errors import BillingErrorCode
from billing.models import BillingAccount, PaymentProvider, PaymentStatus, Plan
from billing.providers.base import (
    Checkout,
    PaymentBackend,
    PaymentNotFound,
    PaymentReport,
    ProviderError,
    ProviderTimeout,
    VerifiedEvent,
    WebhookRejected,
)
from botgeneric.client_address import client_ip
from tenants.models import Role

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


class _TimedApiClient(ApiClient):
    """The SDK's client with an HTTP timeout: the SDK itself sends none (its `timeout` setting is
    only a retry back-off), so a hung YooKassa would hold the request forever."""

    def get_session(self):
        session = super().get_session()
        session.request = functools.partial(session.request, timeout=settings.PROVIDER_HTTP_TIMEOUT_SECONDS)
        return session


class _TimedPayment(YooPayment):
    """yookassa.Payment whose calls go through _TimedApiClient."""

    def __init__(self):
        self.client = _TimedApiClient()


def _failure(what: str, exc: Exception) -> ProviderError:
    """The SDK turns a transport failure into an AttributeError raised while handling it (the
    response is None); the original exception is its context."""
    cause = exc if isinstance(exc, requests.RequestException) else exc.__context__
    logger.warning("yookassa %s failed: %r", what, cause or exc)
    if isinstance(cause, requests.Timeout):
        return ProviderTimeout(detail=f"YooKassa did not answer in time ({what}); nothing changed.")
    return ProviderError(detail=f"YooKassa failed ({what}): nothing changed.")


def _as_int(value) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() else None


def is_trusted_ip(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(network, strict=False) for network in settings.YOOKASSA_TRUSTED_IPS)


class YooKassaBackend(PaymentBackend):
    name = PaymentProvider.YOOKASSA
    currencies = frozenset({"RUB"})
    charges_saved_methods = True
    can_fetch_payments = True

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
            return _TimedPayment.create(params, idempotence_key)
        except SDK_ERRORS as exc:
            raise _failure("payment create", exc) from None

    def start_checkout(self, *, account, plan, price, payment, return_url) -> Checkout:
        """Charge what our pending `payment` says: the price, or less a previewed upgrade credit."""
        params = {
            "amount": {"value": f"{payment.amount:.2f}", "currency": payment.currency},
            "capture": True,
            "confirmation": {"type": "redirect", "return_url": return_url},
            "save_payment_method": True,
            "description": f"{plan.name} · {account.organization.name}"[:128],
            "metadata": {"account_id": str(account.pk), "plan": plan.code, "payment_id": str(payment.pk)},
        }
        receipt = self._receipt(account, plan, payment.amount, payment.currency)
        if receipt:
            params["receipt"] = receipt
        remote = self._create(params, f"checkout-{payment.pk}")
        return Checkout(
            external_id=remote.id,
            confirmation_url=remote.confirmation.confirmation_url,
            raw={"id": remote.id, "status": remote.status},
        )

    def charge_saved_method(self, *, account, plan, price, payment, idempotence_key, period) -> PaymentReport:
        params = {
            "amount": {"value": f"{price.amount:.2f}", "currency": price.currency},
            "capture": True,
            "payment_method_id": account.provider_payment_method_id,
            "description": f"{plan.name} · {account.organization.name}"[:128],
            "metadata": {
                "account_id": str(account.pk),
                "plan": plan.code,
                "payment_id": str(payment.pk),
                "period_start": period[0].isoformat(),
            },
        }
        receipt = self._receipt(account, plan, price.amount, price.currency)
        if receipt:
            params["receipt"] = receipt
        return self._report(json.loads(self._create(params, idempotence_key).json()))

    def fetch_payment(self, external_id: str) -> PaymentReport:
        self._configure()
        try:
            remote = _TimedPayment.find_one(external_id)
        except NotFoundError:
            raise PaymentNotFound(detail=f"YooKassa has no payment {external_id!r}.") from None
        except SDK_ERRORS as exc:
            raise _failure("payment re-fetch", exc) from None
        return self._report(json.loads(remote.json()))

    def _report(self, remote: dict) -> PaymentReport:
        metadata = remote.get("metadata") or {}
        method = remote.get("payment_method") or {}
        return PaymentReport(
            provider=self.name,
            external_id=str(remote["id"]),
            status=REMOTE_STATUS.get(remote.get("status"), PaymentStatus.PENDING),
            amount=Decimal(str(remote["amount"]["value"])),
            currency=str(remote["amount"]["currency"]),
            payment_id=_as_int(metadata.get("payment_id")),
            account_id=_as_int(metadata.get("account_id")),
            plan_code=str(metadata.get("plan") or ""),
            saved_payment_method_id=str(method.get("id") or "") if method.get("saved") else "",
            raw=remote,
        )

    # --- notifications ---------------------------------------------------------------------------

    def verify_webhook(self, request) -> VerifiedEvent:
        address = client_ip(request)
        if not is_trusted_ip(address):
            logger.warning("yookassa notification from untrusted address %r refused", address)
            raise WebhookRejected(
                BillingErrorCode.UNTRUSTED_SOURCE, "Notifications are accepted only from YooKassa.", 403
            )
        try:
            payload = json.loads(request.body)
            event_type = str(payload["event"])
            object_id = str(payload["object"]["id"])
        except (ValueError, KeyError, TypeError):
            raise WebhookRejected(BillingErrorCode.INVALID_PAYLOAD, "Not a YooKassa notification.", 400) from None
        # YooKassa notifications have no id of their own; one event per object is what it sends.
        return VerifiedEvent(event_id=f"{event_type}:{object_id}", event_type=event_type, payload=payload)

    def read_event(self, event) -> PaymentReport | None:
        """Notifications carry no signature: only the payment re-fetched from the API is trusted."""
        if not event.event_type.startswith("payment."):
            return None
        return self.fetch_payment(str(event.payload["object"]["id"]))

    def retryable_ignored_types(self) -> tuple[str, ...]:
        # A payment the API did not confirm yet (still pending) may be confirmed on the next try.
        return ("payment.",)
