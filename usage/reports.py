"""The operator's analytics report and the customer's usage report as tables: one shape for the page, its
charts and its CSV downloads, so what a table shows is exactly what its CSV holds."""

import csv
import io
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing import analytics as billing_analytics
from billing.analytics import Window
from botgeneric.money_display import cents, llm_cost_usd, money
from botgeneric.spreadsheet import safe_text
from usage import analytics

COST_STEP = Decimal("0.000001")
MONEY, USD, INT, PCT, MS, TEXT = "money", "usd", "int", "pct", "ms", "text"


@dataclass
class Table:
    key: str
    title: str
    columns: list[tuple[str, str, str]]  # (field, heading, kind)
    rows: list[dict]
    currency: str = "USD"
    note: str = ""
    total: dict | None = field(default=None)

    def cell(self, row: dict, name: str, kind: str) -> str:
        """A value as the page shows it: '219.98 USD', '$0.0042', '1,234', '2.5 %', '840 ms'."""
        value = row.get(name)
        if value is None:
            return "—"
        if kind == MONEY:
            return money(value, self.currency)
        if kind == USD:
            return llm_cost_usd(value)
        if kind == INT:
            return f"{value:,}"
        if kind == PCT:
            return f"{value * 100:.1f} %"
        if kind == MS:
            return f"{value:,.0f} ms"
        return str(value)

    @property
    def headings(self) -> list[str]:
        return [str(heading) for _name, heading, _kind in self.columns]

    def display_rows(self, limit: int | None = None) -> list[list[str]]:
        rows = self.rows[:limit] if limit else self.rows
        rows = [*rows, self.total] if self.total else rows
        return [[self.cell(row, name, kind) for name, _, kind in self.columns] for row in rows]

    def csv(self) -> str:
        """The table as CSV: plain numbers (money to the cent, costs to a millionth of a dollar, rates as ratios)."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(self.headings)
        for row in self.rows:
            writer.writerow([_plain(row.get(name), kind) for name, _, kind in self.columns])
        return out.getvalue()


def _plain(value, kind: str) -> str:
    if value is None:
        return ""
    if kind == MONEY:
        return str(cents(value))
    if kind == USD:
        return str(Decimal(value).quantize(COST_STEP, rounding=ROUND_HALF_UP))
    if kind == PCT:
        return f"{value:.4f}"
    if kind == MS:
        return f"{value:.0f}"
    text = str(value)
    # A name a customer chose must not become a spreadsheet formula when the CSV is opened.
    return safe_text(text) if kind == TEXT else text


def _change(now: Decimal, before: Decimal) -> float | None:
    return float((now - before) / before) if before else None


def operator_report(window: Window, *, currency: str, usd_rate: Decimal | None) -> dict:
    """Everything the operator's analytics page shows for `window` in `currency`: a fixed number of queries."""
    previous = window.previous()
    mrr_now, mrr_before = billing_analytics.mrr_at([window.until, previous.until], currency=currency)
    received = billing_analytics.revenue_per_day(window, currency=currency)
    costs = analytics.cost_per_day(window)
    per_agent = analytics.organization_agent_totals(window)
    margins = analytics.margins(window, currency=currency, usd_rate=usd_rate, per_agent=per_agent)
    margin_columns = [
        ("name", "Name", TEXT),
        ("revenue", "Revenue (allocated)", MONEY),
        ("cost_usd", "LLM cost (USD)", USD),
        *([("cost", f"LLM cost ({currency})", MONEY)] if currency != "USD" else []),
        ("margin", "Margin", MONEY),
    ]
    daily = [
        {
            "day": day,
            "revenue": received.get(day, {}).get("revenue", Decimal(0)),
            "payments": received.get(day, {}).get("payments", 0),
            "cost": costs.get(day, {}).get("cost") or Decimal(0),
            "requests": costs.get(day, {}).get("requests") or 0,
        }
        for day in window.days
    ]
    health_columns = [
        ("name", "Name", TEXT),
        ("requests", "Calls", INT),
        ("denied", "Denied", INT),
        ("failed", "Failed", INT),
        ("error_rate", "Error rate", PCT),
        ("p50_ms", "Latency p50", MS),
        ("p95_ms", "Latency p95", MS),
        ("cost", "LLM cost", USD),
    ]
    no_rate = "" if margins["rate"] is not None else f"Give the price of 1 USD in {currency} to see margins."
    tables = [
        Table(
            "daily",
            "Revenue received and LLM cost per day",
            [
                ("day", "Day (UTC)", TEXT),
                ("payments", "Payments", INT),
                ("revenue", "Revenue", MONEY),
                ("requests", "Calls", INT),
                ("cost", "LLM cost", USD),
            ],
            daily,
            currency,
        ),
        Table(
            "subscriptions",
            "Subscriptions now by plan and status",
            [("plan__name", "Plan", TEXT), ("status", "Status", TEXT), ("accounts", "Accounts", INT)],
            billing_analytics.subscriptions_by_plan_and_status(),
        ),
        Table(
            "margin_plan", "Margin per plan", margin_columns, margins["by_plan"], currency, no_rate, margins["total"]
        ),
        Table("margin_agent", "Margin per agent", margin_columns, margins["by_agent"], currency, no_rate),
        Table(
            "margin_org", "Margin per organization (lowest first)", margin_columns, margins["by_org"], currency, no_rate
        ),
        Table(
            "top_cost",
            "Top organizations by LLM cost",
            [
                ("name", "Organization", TEXT),
                ("requests", "Calls", INT),
                ("tokens", "Tokens", INT),
                ("cost", "LLM cost", USD),
            ],
            analytics.top_organizations_by_cost(per_agent),
        ),
        Table("health_agent", "Errors and latency per agent", health_columns, analytics.health(window, by="agent")),
        Table(
            "health_provider",
            "Errors and latency per provider and model",
            health_columns,
            analytics.health(window, by="provider"),
        ),
    ]
    return {
        "window": window,
        "currency": currency,
        "mrr": mrr_now,
        "mrr_before": mrr_before,
        "mrr_change": _change(mrr_now, mrr_before),
        "movements": billing_analytics.movements(window),
        "trials": billing_analytics.trial_conversion(window),
        "total": margins["total"],
        "tables": tables,
        "chart": {
            "type": "bar",
            "labels": [row["day"].isoformat() for row in daily],
            "datasets": [
                {"label": f"Revenue received ({currency})", "data": [float(row["revenue"]) for row in daily]},
                {"label": "LLM cost (USD)", "data": [float(row["cost"]) for row in daily], "axis": "right"},
            ],
        },
        "margin_chart": {
            "type": "bar",
            "labels": [row["name"] for row in margins["by_plan"]],
            "datasets": [
                {"label": f"Revenue ({currency})", "data": [float(row["revenue"]) for row in margins["by_plan"]]},
                {
                    "label": f"Margin ({currency})",
                    "data": [float(row["margin"]) if row["margin"] is not None else None for row in margins["by_plan"]],
                },
            ],
        },
    }


def default_window(days: int = 30) -> Window:
    today = timezone.now().date()
    return Window(today - timedelta(days=days - 1), today)


def customer_report(*, organization, window: Window) -> dict:
    """One organization's usage per day, agent, member and channel, as tables and a chart. Four queries or so."""
    counts = [
        ("requests", _("Calls"), INT),
        ("ok", _("Answered"), INT),
        ("denied", _("Denied"), INT),
        ("failed", _("Errors"), INT),
        ("tokens_input", _("Tokens in"), INT),
        ("tokens_output", _("Tokens out"), INT),
        ("audio_seconds", _("Audio seconds"), INT),
    ]
    per_day = {
        row["day"]: row for row in analytics.customer_usage(organization=organization, window=window, group_by=None)
    }
    names = [name for name, _heading, _kind in counts]
    daily = [{"day": day, **{name: per_day.get(day, {}).get(name, 0) for name in names}} for day in window.days]
    tables = [Table("day", _("Per day"), [("day", _("Day (UTC)"), TEXT), *counts], daily)]
    for group, title, heading in (
        ("agent", _("Per agent"), _("Agent")),
        ("member", _("Per member"), _("Member")),
        ("channel", _("Per channel"), _("Channel")),
    ):
        rows = analytics.customer_usage(organization=organization, window=window, group_by=group, per_day=False)
        tables.append(Table(group, title, [("label", heading, TEXT), *counts], rows))
    return {
        "tables": tables,
        "chart": {
            "type": "bar",
            "stacked": True,
            "labels": [row["day"].isoformat() for row in daily],
            "datasets": [
                {"label": str(_("Answered")), "data": [row["ok"] for row in daily]},
                {"label": str(_("Denied")), "data": [row["denied"] for row in daily]},
                {"label": str(_("Errors")), "data": [row["failed"] for row in daily]},
            ],
        },
    }
