"""The access policy engine: the one place that decides whether a call may run (SPEC §5).

`authorize()` = `check_access()` (who, which agent, which subscription, which channel — no writes)
+ the rate limit + `reserve()` (an atomic conditional UPDATE of the period counter). The DRF
permission class calls `check_access()` alone, so a refused call answers with the right code
before any reservation; the invoke service then calls `authorize()` with that decision.
"""

import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connections, router
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from agents.models import Agent
from billing.models import AccountStatus, BillingAccount, Interval, Plan
from billing.periods import add_interval
from billing.selectors import grace_ends_at, renews_at_provider
from botgeneric.prepared_statements import fetch_one
from botgeneric.raw_rows import ModelColumns, split
from policy.errors import DenyCode, PolicyDenied
from policy.models import RulesVersion
from policy.rules_cache import POLL, ScopedRules, rules_for
from tenants.models import Organization
from usage import services as usage_services
from usage import thresholds

logger = logging.getLogger(__name__)

LIVE_STATUSES = (AccountStatus.TRIALING, AccountStatus.ACTIVE)
RATE_WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Limits:
    """Per-period quotas (plan + active extra_quota rules); None = unlimited."""

    requests: int | None
    tokens_input: int | None
    tokens_output: int | None

    def as_dict(self) -> dict[str, int | None]:
        return {"requests": self.requests, "tokens_input": self.tokens_input, "tokens_output": self.tokens_output}


@dataclass(frozen=True)
class Access:
    """What check_access() established for one (user, agent, channel): nothing reserved yet."""

    user_id: int
    agent_id: int
    channel: str
    account: BillingAccount
    limits: Limits
    rate_limit_per_minute: int
    period_start: datetime
    period_end: datetime
    # Requests a trial allows while the caller's e-mail is unverified; None = no such cap.
    unverified_request_cap: int | None = None


@dataclass(frozen=True)
class Grant:
    """An allowed call: the account charged, its period counter (by account and period start), the
    limits that applied and what was reserved — settle or release it once the call is over."""

    account: BillingAccount
    period_start: datetime
    period_end: datetime
    limits: Limits
    reserved_requests: int
    reserved_tokens_input: int
    reserved_tokens_output: int = 0
    # The period's counter right after this reservation (requests, tokens_input, tokens_output) and the
    # rate window's count with this call, read from the writes that counted them (`policy.headroom`).
    used: dict[str, int] | None = None
    rate_limit_per_minute: int = 0
    rate_count: int | None = None


def account_for_policy(*, organization_id: int) -> BillingAccount | None:
    """The organization's billing account with its plan, read fresh: status and period are never cached.

    The same query reads the policy rules' version token (`policy.rules_cache`), so the memoized rules
    are checked against the database on every call at no extra query. Written out once per process
    (`botgeneric.raw_rows`): it runs on every call, and the ORM spent ~1.5 ms of CPU compiling it.
    """
    connection = connections[router.db_for_read(BillingAccount)]
    query = _account_queries.get(connection.alias) or _account_queries.setdefault(
        connection.alias, _AccountQuery(connection)
    )
    row = fetch_one(connection, query.sql, [organization_id])
    if row is None:
        return None
    account, plan = split(row, query.parts, connection)
    account.plan = plan
    account.organization_deletion_due_at = _moment(row[-2])
    account.rules_version = row[-1]
    return account


def _moment(value) -> datetime | None:
    """A timestamp from a raw column: PostgreSQL gives an aware datetime, SQLite its text."""
    if isinstance(value, str):
        value = parse_datetime(value)
        return value if timezone.is_aware(value) else timezone.make_aware(value, UTC)
    return value


class _AccountQuery:
    def __init__(self, connection):
        quote = connection.ops.quote_name
        self.parts = [ModelColumns(connection, BillingAccount, "a"), ModelColumns(connection, Plan, "p")]
        self.sql = (
            f"SELECT {', '.join(column for part in self.parts for column in part.columns)}, "  # noqa: S608
            f"(SELECT deletion_due_at FROM {quote(Organization._meta.db_table)} o "
            "WHERE o.id = a.organization_id AND o.erased_at IS NULL), "
            f"(SELECT token FROM {quote(RulesVersion._meta.db_table)} WHERE id = 1) "
            f"FROM {quote(BillingAccount._meta.db_table)} a "
            f"LEFT JOIN {quote(Plan._meta.db_table)} p ON p.id = a.plan_id "
            "WHERE a.organization_id = %s LIMIT 1"
        )


_account_queries: dict[str, _AccountQuery] = {}


def scoped_rules(*, account: BillingAccount, now: datetime | None = None) -> ScopedRules:
    """The plan's agents and the live rules that apply to this account (see `policy.rules_cache`)."""
    return rules_for(
        organization_id=account.organization_id,
        plan_id=account.plan_id,
        now=now or timezone.now(),
        version=getattr(account, "rules_version", POLL),
    )


def check_user(*, user) -> None:
    if not user.is_active:
        raise PolicyDenied(DenyCode.USER_INACTIVE, "This account is deactivated.")


def subscription_is_live(*, account: BillingAccount, now: datetime) -> bool:
    """Trialing/active within the period; a subscription its provider renews by itself (Paddle) also
    after the period end, until the provider reports otherwise; past_due (the renewal failed and is
    being retried) until BILLING_GRACE_DAYS after it became past_due."""
    if account.current_period_start is None or account.current_period_end is None:
        return False
    if account.status == AccountStatus.PAST_DUE:
        grace_end = grace_ends_at(account)
        return grace_end is not None and grace_end > now
    if account.status not in LIVE_STATUSES:
        return False
    return account.current_period_end > now or renews_at_provider(account)


def check_organization(*, deletion_due_at: datetime | None) -> None:
    """An organization its owner asked to delete serves nobody during the grace period (only its owner
    may restore it, or export its data, which no agent call needs)."""
    if deletion_due_at is not None:
        raise PolicyDenied(
            DenyCode.ORGANIZATION_PENDING_DELETION,
            "The organization is scheduled for deletion; its owner can restore it until then.",
            {"deletion_due_at": deletion_due_at.isoformat()},
        )


def check_subscription(*, account: BillingAccount | None, now: datetime) -> BillingAccount:
    """The organization is not pending deletion, has a plan and its subscription is live (see
    subscription_is_live). `account` is read by account_for_policy(), which carries the deletion date."""
    if account is not None:
        check_organization(deletion_due_at=getattr(account, "organization_deletion_due_at", None))
    if account is None or account.plan_id is None:
        raise PolicyDenied(DenyCode.NO_SUBSCRIPTION, "The organization has no subscription.")
    if not subscription_is_live(account=account, now=now):
        raise PolicyDenied(
            DenyCode.SUBSCRIPTION_INACTIVE,
            "The subscription is not active.",
            {"status": account.status},
        )
    return account


def check_channel(*, account: BillingAccount, channel: str) -> None:
    if channel not in (account.plan.channels or []):
        raise PolicyDenied(
            DenyCode.CHANNEL_NOT_ALLOWED,
            f"The {account.plan.name} plan does not include the {channel} channel.",
            {"channel": str(channel)},
        )


def upgrade_plans(*, agent: Agent, exclude_plan_id: int | None) -> list[dict[str, str]]:
    """Active plans that include `agent`, cheapest-first by display order, so a channel can say which."""
    plans = Plan.objects.filter(is_active=True, plan_agents__agent_id=agent.pk).exclude(pk=exclude_plan_id)
    return list(plans.order_by("display_order", "id").values("code", "name"))


def check_access(*, user, agent: Agent | None, channel: str, now: datetime | None = None) -> Access:
    """Every check of SPEC §5 up to (not including) the rate limit and the quota, in order.

    Reads the account with its plan (one query); the rules and plan memberships come from the
    per-process memo of `policy.rules_cache`. Writes nothing.
    """
    now = now or timezone.now()
    check_user(user=user)
    if agent is None or not agent.is_active:
        raise PolicyDenied(DenyCode.AGENT_NOT_FOUND, "Agent not found.")
    account = None
    if user.organization_id is not None:
        account = account_for_policy(organization_id=user.organization_id)
    check_subscription(account=account, now=now)
    rules = scoped_rules(account=account, now=now)
    if not rules.allows_agent(agent.pk):
        raise PolicyDenied(
            DenyCode.AGENT_NOT_IN_PLAN,
            f"The {account.plan.name} plan does not include {agent.name}.",
            {"upgrade_plans": upgrade_plans(agent=agent, exclude_plan_id=account.plan_id)},
        )
    check_channel(account=account, channel=channel)
    limits = _limits(account=account, rules=rules)
    unverified_cap = None
    if account.status == AccountStatus.TRIALING and not user.has_verified_identity:
        unverified_cap = settings.TRIAL_UNVERIFIED_REQUESTS
    rate = rules.rate_limit if rules.rate_limit is not None else settings.DEFAULT_RATE_LIMIT_PER_MINUTE
    period_start, period_end = quota_period(account=account, now=now)
    return Access(
        user_id=user.pk,
        agent_id=agent.pk,
        channel=str(channel),
        account=account,
        limits=limits,
        rate_limit_per_minute=rate or 0,
        period_start=period_start,
        period_end=period_end,
        unverified_request_cap=unverified_cap,
    )


def quota_period(*, account: BillingAccount, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The period the counters count in: the plan interval of the billing period that contains `now`.

    Usually the billing period itself. An early renewal extends `current_period_end` and keeps the
    start, so a period can span several intervals; the quota still resets every interval (SPEC §4).
    Past the period end (a past_due grace, a renewal the provider has not reported yet) the counters
    count in the intervals that follow it, the first being the one the renewal pays for.
    """
    now = now or timezone.now()
    start, end = account.current_period_start, account.current_period_end
    interval = account.plan.interval
    if now >= end:
        count = max(0, _whole_intervals(end, now, interval))
        return (add_interval(end, interval, count) if count else end), add_interval(end, interval, count + 1)
    count = max(0, _whole_intervals(start, now, interval))
    period_start = add_interval(start, interval, count) if count else start
    return period_start, min(add_interval(start, interval, count + 1), end)


def _whole_intervals(start: datetime, now: datetime, interval: str) -> int:
    if interval == Interval.DAY:
        return (now - start).days
    if interval == Interval.WEEK:
        return (now - start).days // 7
    count = (now.year - start.year) * 12 + now.month - start.month
    if interval == Interval.YEAR:
        count //= 12
    while count > 0 and add_interval(start, interval, count) > now:
        count -= 1
    return count


def _plus(quota: int | None, extra: int) -> int | None:
    return None if quota is None else quota + (extra or 0)


def limits_for(*, account: BillingAccount, now: datetime | None = None) -> Limits:
    """The quotas an account has this period (plan + active extra_quota rules), for reports."""
    if account.plan is None:
        return Limits(0, 0, 0)
    return _limits(account=account, rules=scoped_rules(account=account, now=now))


def _limits(*, account: BillingAccount, rules: ScopedRules) -> Limits:
    plan = account.plan
    return Limits(
        requests=_plus(plan.quota_requests, rules.extra_total("extra_requests")),
        tokens_input=_plus(plan.quota_tokens_input, rules.extra_total("extra_tokens_input")),
        tokens_output=_plus(plan.quota_tokens_output, rules.extra_total("extra_tokens_output")),
    )


def rate_key(*, organization_id: int, timestamp: int) -> str:
    """The cache key counting an organization's requests in the one-minute window of `timestamp`."""
    return f"policy:rate:{organization_id}:{timestamp // RATE_WINDOW_SECONDS}"


def check_rate(*, access: Access, now: datetime | None = None) -> int | None:
    """Fixed one-minute window per organization in the shared cache (Redis in production, so every
    app server counts together). add() + incr() are atomic; the count never goes through Python.
    Returns the window's count with this call (None without a rate limit)."""
    limit = access.rate_limit_per_minute
    if not limit:
        return None
    timestamp = int((now or timezone.now()).timestamp())
    key = rate_key(organization_id=access.account.organization_id, timestamp=timestamp)
    cache.add(key, 0, timeout=RATE_WINDOW_SECONDS + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # the key expired between add() and incr()
        cache.add(key, 1, timeout=RATE_WINDOW_SECONDS + 5)
        count = 1
    if count > limit:
        retry_after = RATE_WINDOW_SECONDS - timestamp % RATE_WINDOW_SECONDS
        raise PolicyDenied(
            DenyCode.RATE_LIMITED,
            f"Too many requests: at most {limit} per minute.",
            {"retry_after": retry_after, "limit": limit},
        )
    return count


def reserve(*, access: Access, tokens_input: int = 0, tokens_output: int = 0, rate_count: int | None = None) -> Grant:
    """Reserve one request, `tokens_input` and `tokens_output` in the current period's counter, or deny
    with the metric that is used up. The reservation is one conditional UPDATE, so K quota means at most
    K calls, and the tokens reserved never pass a token quota.

    An unverified trial reserves against the smaller of its quota and the unverified cap, in that
    same UPDATE, so the cap holds under concurrency too."""
    account = access.account
    limits = access.limits
    cap = access.unverified_request_cap
    if cap is not None and (limits.requests is None or cap < limits.requests):
        limits = replace(limits, requests=cap)
    used = usage_services.reserve(
        account=account,
        period_start=access.period_start,
        period_end=access.period_end,
        limits=limits.as_dict(),
        tokens_input=tokens_input,
        tokens_output=tokens_output,
    )
    if used is None:
        if limits is not access.limits:
            used = usage_services.counter_values(account=account, period_start=access.period_start)
            if used["requests"] + 1 > cap:
                raise _email_unverified(cap=cap)
        raise _quota_exceeded(access=access, tokens_input=tokens_input, tokens_output=tokens_output)
    return Grant(
        account=account,
        period_start=access.period_start,
        period_end=access.period_end,
        limits=access.limits,
        reserved_requests=1,
        reserved_tokens_input=tokens_input,
        reserved_tokens_output=tokens_output,
        used=used,
        rate_limit_per_minute=access.rate_limit_per_minute,
        rate_count=rate_count,
    )


def _email_unverified(*, cap: int) -> PolicyDenied:
    return PolicyDenied(
        DenyCode.EMAIL_UNVERIFIED,
        f"The trial allows {cap} requests until your e-mail address is verified. Open the link we e-mailed "
        "you (the website's e-mail settings page, /accounts/email/, sends a new one), then try again.",
        {"limit": cap},
    )


def _quota_exceeded(*, access: Access, tokens_input: int, tokens_output: int) -> PolicyDenied:
    account = access.account
    used = usage_services.counter_values(account=account, period_start=access.period_start)
    limits = access.limits
    metric = "requests"
    if limits.requests is None or used["requests"] + 1 <= limits.requests:
        if limits.tokens_input is not None and used["tokens_input"] + tokens_input > limits.tokens_input:
            metric = "tokens_input"
        elif limits.tokens_output is not None and used["tokens_output"] + tokens_output > limits.tokens_output:
            metric = "tokens_output"
    if getattr(limits, metric) is not None:
        thresholds.report_used_up(
            account=account,
            metric=metric,
            limit=getattr(limits, metric),
            used=used[metric],
            period_start=access.period_start,
            period_end=access.period_end,
        )
    return PolicyDenied(
        DenyCode.QUOTA_EXCEEDED,
        f"The {metric.replace('_', ' ')} quota of this billing period is used up.",
        {
            "metric": metric,
            "limit": getattr(limits, metric),
            "used": used[metric],
            "resets_at": access.period_end.isoformat(),
        },
    )


def feature_key(feature: str) -> str:
    """A plan's feature line as a key: "Deployments" → "deployments", "API access" → "api_access"."""
    return "_".join(feature.lower().split())


def require_feature(*, organization_id: int | None, feature: str, now: datetime | None = None) -> BillingAccount:
    """The organization's live plan (or a feature-flag rule) grants `feature`; otherwise PolicyDenied:
    no_subscription / subscription_inactive (402) or feature_not_in_plan (403, with the plans that have it).
    """
    now = now or timezone.now()
    account = account_for_policy(organization_id=organization_id) if organization_id else None
    check_subscription(account=account, now=now)
    granted = {feature_key(name) for name in account.plan.features or []}
    granted |= {feature_key(name) for name in scoped_rules(account=account, now=now).features}
    if feature_key(feature) not in granted:
        plans = Plan.objects.filter(is_active=True).exclude(pk=account.plan_id).order_by("display_order", "id")
        raise PolicyDenied(
            DenyCode.FEATURE_NOT_IN_PLAN,
            f"The {account.plan.name} plan does not include {feature}.",
            {
                "feature": feature,
                "upgrade_plans": [
                    {"code": plan.code, "name": plan.name}
                    for plan in plans
                    if feature_key(feature) in {feature_key(name) for name in plan.features or []}
                ],
            },
        )
    return account


def authorize(
    *, user, agent: Agent | None, channel: str, meta: dict[str, Any] | None = None, access: Access | None = None
) -> Grant:
    """Decide one call (SPEC §5) and, on allow, reserve it. Raises PolicyDenied on the first failed check.

    `meta["tokens_input"]` is the caller's estimate of the prompt's tokens and `meta["tokens_output"]` the
    most the answer may take (the version's max_tokens): both are reserved. `access` is a decision
    check_access() already made for this same call (the API's permission class), reused to save a read.
    """
    meta = meta or {}
    reusable = (
        access is not None
        and access.user_id == user.pk
        and access.agent_id == getattr(agent, "pk", None)
        and access.channel == str(channel)
    )
    if not reusable:
        access = check_access(user=user, agent=agent, channel=channel)
    rate_count = check_rate(access=access)
    grant = reserve(
        access=access,
        tokens_input=int(meta.get("tokens_input", 0)),
        tokens_output=int(meta.get("tokens_output", 0)),
        rate_count=rate_count,
    )
    logger.debug("authorized org=%s agent=%s channel=%s", access.account.organization_id, access.agent_id, channel)
    return grant
