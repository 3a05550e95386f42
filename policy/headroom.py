"""What is left of an organization's rate limit and period quota after a call was allowed: the numbers
behind the OpenAI-compatible API's `x-ratelimit-*` headers. A read: one query for the period counter,
one cache read for the rate window."""

from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.utils import timezone

from policy.services import RATE_WINDOW_SECONDS, Access, rate_key
from usage import services as usage_services


@dataclass(frozen=True)
class Headroom:
    """A limit, what is left of it, and the seconds until it resets."""

    limit: int
    remaining: int
    reset_seconds: int


@dataclass(frozen=True)
class Headrooms:
    requests: Headroom | None  # None: unlimited
    tokens: Headroom | None


def headroom(*, access: Access, now: datetime | None = None) -> Headrooms:
    """Requests: the per-minute rate limit or the period's request quota, whichever has less left.
    Tokens: the period's input and output token quotas together (None when either is unlimited)."""
    now = now or timezone.now()
    used = usage_services.counter_values(account=access.account, period_start=access.period_start)
    period_reset = max(0, int((access.period_end - now).total_seconds()))
    limits = access.limits
    candidates = []
    if access.rate_limit_per_minute:
        timestamp = int(now.timestamp())
        count = cache.get(rate_key(organization_id=access.account.organization_id, timestamp=timestamp)) or 0
        reset = RATE_WINDOW_SECONDS - timestamp % RATE_WINDOW_SECONDS
        rate = access.rate_limit_per_minute
        candidates.append(Headroom(rate, max(0, rate - int(count)), reset))
    if limits.requests is not None:
        candidates.append(Headroom(limits.requests, max(0, limits.requests - used["requests"]), period_reset))
    requests = min(candidates, key=lambda room: room.remaining) if candidates else None
    tokens = None
    if limits.tokens_input is not None and limits.tokens_output is not None:
        limit = limits.tokens_input + limits.tokens_output
        tokens = Headroom(limit, max(0, limit - used["tokens_input"] - used["tokens_output"]), period_reset)
    return Headrooms(requests=requests, tokens=tokens)
