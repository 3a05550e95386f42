"""Which plan and price a customer buys, and whether a provider may sell it."""

from decimal import Decimal

from billing.errors import BillingError, BillingErrorCode
from billing.models import BillingAccount, PaymentProvider, Plan, PlanPrice
from billing.providers import enabled_providers, get_backend


def resolve_plan(plan: Plan | str) -> Plan:
    """A Plan instance, or the active plan with that code; unknown_plan otherwise."""
    if isinstance(plan, Plan):
        if not plan.is_active:
            raise BillingError(BillingErrorCode.UNKNOWN_PLAN, "This plan is not offered.", "plan")
        return plan
    found = Plan.objects.filter(code=plan, is_active=True).first()
    if found is None:
        raise BillingError(BillingErrorCode.UNKNOWN_PLAN, f"No active plan {plan!r}.", "plan")
    return found


def plan_is_free(plan: Plan) -> bool:
    """Free is explicit: the plan is marked free, or it has prices and every one is zero.

    A plan without prices is not free (an operator forgot them); only a grant gives it."""
    prices = list(plan.prices.all())
    return plan.is_free or (bool(prices) and all(price.amount == 0 for price in prices))


def resolve_price(
    *, plan: Plan, provider: str, currency: str | None, account: BillingAccount | None
) -> PlanPrice | None:
    """The price the customer pays. Plans marked free without prices give None (only `manual` takes them)."""
    backend = get_backend(provider)
    prices = {price.currency: price for price in plan.prices.all()}
    offered = {currency for currency, price in prices.items() if backend.supports_price(price)}
    if currency:
        currency = currency.upper()
        if currency not in offered:
            raise BillingError(
                BillingErrorCode.CURRENCY_NOT_OFFERED,
                f"{plan.code} is not offered in {currency} through {provider}.",
                "currency",
            )
        return prices[currency]
    if not prices:
        if provider == PaymentProvider.MANUAL and plan.is_free:
            return None
        raise BillingError(
            BillingErrorCode.PLAN_NOT_PRICED, f"{plan.code} has no price; only an operator can grant it.", "plan"
        )
    for preferred in (account.currency if account else None, "USD"):
        if preferred in offered:
            return prices[preferred]
    if offered:
        return prices[sorted(offered)[0]]
    raise BillingError(
        BillingErrorCode.CURRENCY_NOT_OFFERED, f"{plan.code} has no price {provider} can charge.", "currency"
    )


def check_provider(*, provider: str, plan: Plan) -> None:
    if get_backend(provider) is None:
        raise BillingError(BillingErrorCode.PROVIDER_DISABLED, f"Unknown provider {provider!r}.", "provider")
    if provider in enabled_providers():
        return
    if provider == PaymentProvider.MANUAL and plan_is_free(plan):
        return
    raise BillingError(BillingErrorCode.PROVIDER_DISABLED, f"Payments through {provider} are off.", "provider")


def _plan_rank(plan: Plan, currency: str) -> tuple:
    price = next((p.amount for p in plan.prices.all() if p.currency == currency), None)
    return (price if price is not None else Decimal(-1), plan.display_order)


def is_downgrade(current: Plan, new: Plan, currency: str) -> bool:
    """Cheaper per period in the account's currency (display order breaks ties) means downgrade."""
    return _plan_rank(new, currency) < _plan_rank(current, currency)
