"""Operator writes of policy rules (rate limits, agent allow/deny, extra quota, feature flags), audited.

Saving a rule still sends the model signals the rules memo listens to (`policy.rules_cache`), so the
next authorize() on any server sees it.
"""

from policy.models import PolicyRule
from tenants.services import delete_audited, save_audited

RULE_FIELDS = [
    "kind",
    "plan",
    "organization",
    "agent",
    "requests_per_minute",
    "extra_requests",
    "extra_tokens_input",
    "extra_tokens_output",
    "feature",
    "starts_at",
    "ends_at",
    "is_active",
    "note",
]


def save_rule(*, rule: PolicyRule, actor) -> PolicyRule:
    return save_audited(
        instance=rule, fields=RULE_FIELDS, action_prefix="policy_rule", actor=actor, organization=rule.organization
    )


def delete_rule(*, rule: PolicyRule, actor) -> None:
    delete_audited(
        instance=rule, fields=RULE_FIELDS, action_prefix="policy_rule", actor=actor, organization=rule.organization
    )
