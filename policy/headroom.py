"""What is left of an organization's rate limit and period quota once a call is counted: the numbers
behind the OpenAI-compatible API's `x-ratelimit-*` headers. No query: computed from what the call's own
writes returned (the reservation's counter and the rate window's count, carried by its Grant), so the
headers cost the answer nothing. A snapshot, as OpenAI's own are: concurrent calls of the same
organization move the numbers on.
"""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from policy.services import RATE_WINDOW_SECONDS, Grant


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


def headroom(*, grant: Grant, tokens: tuple[int, int] | None = None, now: datetime | None = None) -> Headrooms:
    """Requests: the per-minute rate limit or the period's request quota, whichever has less left.
    Tokens: the period's input and output token quotas together (None when either is unlimited), with
    this call's reservation, or with its real counts once it is settled (`tokens`: input, output)."""
    now = now or timezone.now()
    used = grant.used or {"requests": 0, "tokens_input": 0, "tokens_output": 0}
    period_reset = max(0, int((grant.period_end - now).total_seconds()))
    limits = grant.limits
    candidates = []
    if grant.rate_limit_per_minute and grant.rate_count is not None:
        rate = grant.rate_limit_per_minute
        reset = RATE_WINDOW_SECONDS - int(now.timestamp()) % RATE_WINDOW_SECONDS
        candidates.append(Headroom(rate, max(0, rate - grant.rate_count), reset))
    if limits.requests is not None:
        candidates.append(Headroom(limits.requests, max(0, limits.requests - used["requests"]), period_reset))
    requests = min(candidates, key=lambda room: room.remaining) if candidates else None
    room = None
    if limits.tokens_input is not None and limits.tokens_output is not None:
        limit = limits.tokens_input + limits.tokens_output
        spent = used["tokens_input"] + used["tokens_output"]
        if tokens is not None:
            spent += sum(tokens) - grant.reserved_tokens_input - grant.reserved_tokens_output
        room = Headroom(limit, max(0, limit - spent), period_reset)
    return Headrooms(requests=requests, tokens=room)
