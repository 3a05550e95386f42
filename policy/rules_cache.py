"""The policy rules and plan memberships that apply to one organization on one plan, read from memory.

Why a memo: building the rule query (seven annotated subqueries) cost more CPU than the rest of an
invoke together. Policy rules and plan→agent memberships are small, operator-managed tables that change
rarely, so each process keeps the active rules and the agent ids of the plans it has seen, and evaluates
them in Python. What changes often or with time is never memoized: the billing account (status,
period) is read fresh by the callers, and a rule's [starts_at, ends_at) window is checked against `now`
on every call, so nothing goes stale with time.

Why a version token in the database: the memo is valid only for the token it was loaded under, and
the token must be one every worker of every app server sees (a per-process cache would leave each
gunicorn worker with its own idea of it). It is the one row of `RulesVersion`; the receivers in
`policy.apps` replace it in the same transaction as the write whenever a PolicyRule or a PlanAgent is
saved or deleted (cascades included) or a plan's agents change. The policy reads the token in the same
query as the billing account (`policy.services.account_for_policy`), so a committed change applies on
every server's very next call at no extra query; a caller without that read gets the token from the
database at most every POLL_SECONDS. A rolled-back write rolls its token back too, and the next read
reloads. Writes that send no signals (`bulk_create`, `QuerySet.update()`, raw SQL) should call
`invalidate()`.
"""

import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from django.db import transaction

from billing.models import PlanAgent
from policy.models import PolicyRule, RuleKind, RulesVersion

POLL_SECONDS = 0.5
# `rules_for(version=POLL)`: the caller did not read the token, so the memo reads it (throttled).
POLL = object()


class Rule(NamedTuple):
    """One active PolicyRule, as plain values (the fields the policy evaluates)."""

    kind: str
    organization_id: int | None
    plan_id: int | None
    agent_id: int | None
    requests_per_minute: int | None
    extra_requests: int
    extra_tokens_input: int
    extra_tokens_output: int
    feature: str
    starts_at: datetime | None
    ends_at: datetime | None

    def applies(self, *, organization_id: int, plan_id: int, now: datetime) -> bool:
        """Inside its [starts_at, ends_at) window, and its organization and plan, when set, both match."""
        return (
            (self.starts_at is None or self.starts_at <= now)
            and (self.ends_at is None or self.ends_at > now)
            and (self.organization_id is None or self.organization_id == organization_id)
            and (self.plan_id is None or self.plan_id == plan_id)
        )


class _Snapshot:
    """The active rules and the plan memberships loaded under one version token."""

    def __init__(self, version: str | None, rules: tuple[Rule, ...]):
        self.version = version
        self.rules = rules
        self._plan_agents: dict[int, frozenset[int]] = {}

    def plan_agent_ids(self, plan_id: int) -> frozenset[int]:
        agent_ids = self._plan_agents.get(plan_id)
        if agent_ids is None:
            agent_ids = frozenset(PlanAgent.objects.filter(plan_id=plan_id).values_list("agent_id", flat=True))
            self._plan_agents[plan_id] = agent_ids
        return agent_ids


_snapshot: _Snapshot | None = None
_polled_version: str | None = None
_next_poll_at = 0.0


@dataclass(frozen=True)
class ScopedRules:
    """What the plan and the live rules grant one organization on one plan at one moment.

    The plan's agent ids are loaded only when asked for (limits and features never need them).
    """

    snapshot: _Snapshot
    plan_id: int
    rules: tuple[Rule, ...]

    def _agent_ids(self, kind: str) -> set[int]:
        return {rule.agent_id for rule in self.rules if rule.kind == kind and rule.agent_id is not None}

    @property
    def allowed_agent_ids(self) -> set[int]:
        """Every agent the caller may use: in the plan or allowed by a rule, and not denied by one."""
        plan_agent_ids = self.snapshot.plan_agent_ids(self.plan_id)
        return (set(plan_agent_ids) | self._agent_ids(RuleKind.ALLOW_AGENT)) - self._agent_ids(RuleKind.DENY_AGENT)

    def allows_agent(self, agent_id: int) -> bool:
        return agent_id in self.allowed_agent_ids

    @property
    def rate_limit(self) -> int | None:
        """The lowest rate-limit rule of the organization's own rules if it has any, else of the plan's."""
        rates = [rule for rule in self.rules if rule.kind == RuleKind.RATE_LIMIT]
        rates = [rule for rule in rates if rule.requests_per_minute is not None]
        own = [rule.requests_per_minute for rule in rates if rule.organization_id is not None]
        shared = [rule.requests_per_minute for rule in rates if rule.organization_id is None]
        return min(own or shared, default=None)

    def extra_total(self, field: str) -> int:
        """The sum of `field` (extra_requests, extra_tokens_input, extra_tokens_output) of extra-quota rules."""
        return sum(getattr(rule, field) for rule in self.rules if rule.kind == RuleKind.EXTRA_QUOTA)

    @property
    def features(self) -> set[str]:
        return {rule.feature for rule in self.rules if rule.kind == RuleKind.FEATURE and rule.feature}


def rules_for(*, organization_id: int, plan_id: int, now: datetime, version: object = POLL) -> ScopedRules:
    """The plan's agents and the rules live at `now` that apply to this organization on this plan.

    `version` is the token read from `RulesVersion` with the caller's own query; without it the memo
    polls the table itself.
    """
    if version is POLL:
        version = _polled()
    else:
        _seen(version)
    snapshot = _current_snapshot(version)
    return ScopedRules(
        snapshot=snapshot,
        plan_id=plan_id,
        rules=_applicable(snapshot.rules, organization_id=organization_id, plan_id=plan_id, now=now),
    )


def _applicable(rules: Iterable[Rule], *, organization_id: int, plan_id: int, now: datetime) -> tuple[Rule, ...]:
    return tuple(rule for rule in rules if rule.applies(organization_id=organization_id, plan_id=plan_id, now=now))


def _current_snapshot(version: str | None) -> _Snapshot:
    global _snapshot
    snapshot = _snapshot
    # No token (the row is made after every migrate and flush, so only a broken setup has none): trust nothing.
    if snapshot is None or version is None or snapshot.version != version:
        rows = PolicyRule.objects.filter(is_active=True).values_list(*Rule._fields)
        snapshot = _Snapshot(version, tuple(Rule(*row) for row in rows))
        _snapshot = snapshot
    return snapshot


def _polled() -> str | None:
    global _polled_version, _next_poll_at
    if time.monotonic() >= _next_poll_at:
        _polled_version = RulesVersion.objects.filter(pk=1).values_list("token", flat=True).first()
        _next_poll_at = time.monotonic() + POLL_SECONDS
    return _polled_version


def _seen(version: str | None) -> None:
    """A caller read the token itself: polling callers use it too, rather than an older polled one."""
    global _polled_version, _next_poll_at
    _polled_version = version
    _next_poll_at = time.monotonic() + POLL_SECONDS


def _poll_now() -> None:
    global _next_poll_at
    _next_poll_at = 0.0


def clear() -> None:
    """Forget this process's memo, as a new process starts (tests do, so none inherits another's)."""
    global _snapshot, _polled_version, _next_poll_at
    _snapshot, _polled_version, _next_poll_at = None, None, 0.0


def new_token() -> str:
    return secrets.token_hex(8)


def invalidate() -> None:
    """Make every process reload the rules and memberships on its next call.

    The new token is written in the caller's transaction, so it commits (and is seen by every server)
    together with the change, and rolls back with it. This process also polls again at once and again
    after commit, so its own next call never waits for POLL_SECONDS.
    """
    RulesVersion.objects.bulk_create(
        [RulesVersion(id=1, token=new_token())],
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=["token", "changed_at"],
    )
    _poll_now()
    transaction.on_commit(_poll_now)
