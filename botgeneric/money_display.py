"""How the operator console writes amounts: money with its currency, LLM costs to the first digits that matter."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
COST_PLACES = 6


def money(amount: Decimal | None, currency: str) -> str:
    """'19.99 USD': two decimals and the currency code (a loss of less than a cent is 0.00, not -0.00)."""
    if amount is None:
        return "—"
    return f"{cents(amount)} {currency}"


def cents(amount: Decimal) -> Decimal:
    rounded = Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
    return rounded.copy_abs() if rounded.is_zero() else rounded


def llm_cost_usd(amount: Decimal | None) -> str:
    """'$0.000123': up to six decimals (a cost is often a fraction of a cent), trailing zeros dropped."""
    if amount is None:
        return "—"
    rounded = amount.quantize(Decimal(1).scaleb(-COST_PLACES), rounding=ROUND_HALF_UP)
    whole, _, fraction = f"{rounded:f}".partition(".")
    return f"${whole}.{fraction.rstrip('0').ljust(2, '0')}"
