"""Reads of the roll-ups (`usage.rollups`): LLM cost, health and margins for operators, usage for customers.

Every figure here comes from the roll-ups, never from the raw events, so a page costs the same number of
queries whatever the number of calls. Operator reads span all organizations; `customer_usage` is always
scoped to one.
"""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import F, Q, Sum

from agents.models import Agent, LLMProvider
from billing.analytics import Window, allocated_revenue, current_plans
from tenants.models import Organization
from usage.models import (
    LATENCY_BUCKETS_MS,
    AgentDaily,
    OrganizationDaily,
    OrganizationWeekly,
    UsageDaily,
    latency_columns,
)

#: The plan feature that gives customers these reads (policy decides who has it).
ANALYTICS_FEATURE = "advanced_analytics"
COUNTS = ("requests", "ok", "denied", "failed", "tokens_input", "tokens_output", "audio_seconds")
#: Dimensions a customer may group by → the roll-up column.
CUSTOMER_GROUPS = {"agent": "agent_id", "member": "user_id", "channel": "channel"}


def _rows(window: Window, table=UsageDaily, **filters):
    return table.objects.filter(day__gte=window.start, day__lte=window.end, **filters)


def _sums(*, cost: bool = True, latency: bool = False) -> dict:
    sums = {name: Sum(name) for name in COUNTS}
    if cost:
        sums["cost_usd"] = Sum("cost_usd")
    if latency:
        sums.update({name: Sum(name) for name in latency_columns()})
    return sums


def cost_per_day(window: Window) -> dict[date, dict]:
    """Day → requests and LLM cost (USD) of all calls."""
    rows = _rows(window, AgentDaily).values("day").annotate(requests=Sum("requests"), cost=Sum("cost_usd"))
    return {row["day"]: {"requests": row["requests"], "cost": row["cost"]} for row in rows}


def percentile(histogram: list[int], q: float) -> float | None:
    """The q-quantile (0..1) of latencies counted in the roll-up buckets, interpolated within its bucket;
    the open last bucket answers its lower bound. None without calls."""
    total = sum(histogram)
    if not total:
        return None
    target, seen, lower = q * total, 0, 0
    for upper, count in zip(LATENCY_BUCKETS_MS, histogram, strict=False):
        if count and seen + count >= target:
            return lower + (upper - lower) * (target - seen) / count
        seen, lower = seen + count, upper
    return float(LATENCY_BUCKETS_MS[-1])


def _names(model, ids, field: str) -> dict:
    return dict(model.objects.filter(pk__in=[pk for pk in ids if pk is not None]).values_list("pk", field))


def health(window: Window, *, by: str) -> list[dict]:
    """Per agent (`by="agent"`) or per provider and model (`by="provider"`): calls, error rate (failed of the
    calls that reached the model), latency p50/p95 and cost. Two queries."""
    keys = ["agent_id"] if by == "agent" else ["provider_id", "model"]
    rows = list(_rows(window, AgentDaily).values(*keys).annotate(**_sums(latency=True)).order_by(*keys))
    if by == "agent":
        names = _names(Agent, {row["agent_id"] for row in rows}, "name")
    else:
        names = _names(LLMProvider, {row["provider_id"] for row in rows}, "name")
    result = []
    for row in rows:
        histogram = [row[name] for name in latency_columns()]
        attempted = row["ok"] + row["failed"]
        if by == "agent":
            label = names.get(row["agent_id"], "—" if row["agent_id"] is None else f"#{row['agent_id']}")
        else:
            label = f"{names.get(row['provider_id'], 'default')} · {row['model'] or '—'}"
        result.append(
            {
                "name": label,
                "requests": row["requests"],
                "denied": row["denied"],
                "failed": row["failed"],
                "error_rate": row["failed"] / attempted if attempted else None,
                "p50_ms": percentile(histogram, 0.5),
                "p95_ms": percentile(histogram, 0.95),
                "cost": row["cost_usd"],
            }
        )
    return result


def margins(window: Window, *, currency: str, usd_rate: Decimal | None, per_agent: list[dict]) -> dict:
    """Margin per organization, plan and agent: allocated revenue (in `currency`) minus LLM cost (USD × `usd_rate`,
    the price of a dollar in `currency`; 1 for USD). Without a rate for another currency, margins are None.

    `per_agent` is `organization_agent_totals(window)`. An organization's plan is its account's plan now. Its
    revenue is shared among its agents by their share of its answered calls (an organization that paid but made
    no call leaves its revenue to "no calls").
    """
    rate = Decimal(1) if currency == "USD" else usd_rate
    revenue = allocated_revenue(window, currency=currency)
    org_cost: dict[int, Decimal] = defaultdict(Decimal)
    org_ok: dict[int, int] = defaultdict(int)
    for row in per_agent:
        org_cost[row["organization_id"]] += row["cost"]
        org_ok[row["organization_id"]] += row["ok"]
    org_ids = set(revenue) | set(org_cost)
    org_names = _names(Organization, org_ids, "name")
    plans = current_plans(org_ids)

    def line(name, rev: Decimal, cost_usd: Decimal) -> dict:
        cost = cost_usd * rate if rate is not None else None
        margin = rev - cost if cost is not None else None
        return {"name": name, "revenue": rev, "cost_usd": cost_usd, "cost": cost, "margin": margin}

    by_org = [
        {**line(org_names.get(org, f"#{org}"), revenue.get(org, Decimal(0)), org_cost.get(org, Decimal(0))), "id": org}
        for org in org_ids
    ]
    by_org.sort(key=lambda row: (row["margin"] if row["margin"] is not None else -row["cost_usd"], row["name"]))

    plan_totals: dict[str, list] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for org in org_ids:
        totals = plan_totals[plans.get(org, ("", "no plan"))[1]]
        totals[0] += revenue.get(org, Decimal(0))
        totals[1] += org_cost.get(org, Decimal(0))
    by_plan = [line(name, rev, cost) for name, (rev, cost) in sorted(plan_totals.items())]

    agent_totals: dict[int | None, list] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for row in per_agent:
        org = row["organization_id"]
        share = Decimal(row["ok"]) / org_ok[org] if org_ok[org] else Decimal(0)
        agent_totals[row["agent_id"]][0] += revenue.get(org, Decimal(0)) * share
        agent_totals[row["agent_id"]][1] += row["cost"]
    unallocated = sum((rev for org, rev in revenue.items() if not org_ok.get(org)), Decimal(0))
    agent_names = _names(Agent, agent_totals, "name")
    by_agent = [
        line(agent_names.get(agent, "—" if agent is None else f"#{agent}"), rev, cost)
        for agent, (rev, cost) in agent_totals.items()
    ]
    if unallocated:
        by_agent.append(line("no calls", unallocated, Decimal(0)))
    by_agent.sort(key=lambda row: row["name"])
    total = line("total", sum(revenue.values(), Decimal(0)), sum(org_cost.values(), Decimal(0)))
    return {"by_org": by_org, "by_plan": by_plan, "by_agent": by_agent, "total": total, "rate": rate}


def full_weeks(window: Window) -> tuple[date, date] | None:
    """The Mondays of the first and last whole ISO weeks inside the window (None if it holds none)."""
    first = window.start + timedelta(days=(7 - window.start.weekday()) % 7)
    last = window.end - timedelta(days=(window.end.weekday() + 1) % 7 + 6)
    return (first, last) if first <= last else None


def organization_agent_totals(window: Window) -> list[dict]:
    """Per organization and agent over the window: cost, answered calls, calls, tokens. Whole weeks come from
    the weekly rows, the days at the edges from the daily ones: two queries of at most a week's rows per pair."""
    sums = {
        "cost": Sum("cost_usd"),
        "ok": Sum("ok"),
        "requests": Sum("requests"),
        "tokens": Sum(F("tokens_input") + F("tokens_output")),
    }
    weeks = full_weeks(window)
    days = Q(day__gte=window.start, day__lte=window.end)
    parts = []
    if weeks:
        parts.append(OrganizationWeekly.objects.filter(day__gte=weeks[0], day__lte=weeks[1]))
        days &= Q(day__lt=weeks[0]) | Q(day__gt=weeks[1] + timedelta(days=6))
    parts.append(OrganizationDaily.objects.filter(days))
    totals: dict[tuple, dict] = {}
    for part in parts:
        rows = part.exclude(organization=None).values("organization_id", "agent_id").annotate(**sums).order_by()
        for row in rows:
            key = (row["organization_id"], row["agent_id"])
            if key in totals:
                for name in sums:
                    totals[key][name] += row[name]
            else:
                totals[key] = row
    return list(totals.values())


def top_organizations_by_cost(totals: list[dict], *, limit: int = 10) -> list[dict]:
    """The organizations that cost most, from `organization_agent_totals()` (one query for their names)."""
    per_org: dict[int, dict] = {}
    for row in totals:
        org = per_org.setdefault(row["organization_id"], {"cost": Decimal(0), "requests": 0, "tokens": 0})
        for name in org:
            org[name] += row[name]
    top = sorted(per_org.items(), key=lambda item: (-item[1]["cost"], item[0]))[:limit]
    names = _names(Organization, [org for org, _ in top], "name")
    return [{"organization_id": org, "name": names.get(org, f"#{org}"), **row} for org, row in top]


def customer_usage(*, organization, window: Window, group_by: str | None, per_day: bool = True) -> list[dict]:
    """One organization's usage per day (and per agent, member or channel when `group_by` names one; over the
    whole window with `per_day=False`), oldest first: requests by outcome, tokens, audio seconds. No costs:
    those are the operator's. Two queries at most."""
    column = CUSTOMER_GROUPS[group_by] if group_by else None
    keys = [*(["day"] if per_day else []), *([column] if column else [])]
    rows = list(_rows(window, organization=organization).values(*keys).annotate(**_sums(cost=False)).order_by(*keys))
    labels = {}
    if group_by == "agent":
        labels = _names(Agent, {row["agent_id"] for row in rows}, "name")
    elif group_by == "member":
        members = get_user_model().objects.filter(pk__in=[row["user_id"] for row in rows if row["user_id"]])
        labels = {pk: email or name for pk, email, name in members.values_list("pk", "email", "name")}
    result = []
    for row in rows:
        item = {name: row[name] for name in keys if name == "day"} | {name: row[name] for name in COUNTS}
        if column:
            key = row[column]
            item["key"] = key
            item["label"] = key if group_by == "channel" else labels.get(key) or ("—" if key is None else f"#{key}")
        result.append(item)
    return result
