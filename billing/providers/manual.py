"""The manual provider: operator grants, free plans and development. It charges nothing."""

from django.conf import settings

from billing.providers.base import PaymentBackend


class ManualBackend(PaymentBackend):
    """Activates at once without a payment.

    Customers may pick it for a free plan; for a paid plan only where BILLING_MANUAL_ENABLED is set
    (development, demos, tests) — in production paid plans go through a real provider.
    """

    name = "manual"
    needs_checkout = False

    @classmethod
    def is_configured(cls) -> bool:
        return settings.BILLING_MANUAL_ENABLED
