"""Operator writes of the catalog: plans, their prices and their agents, each leaving an audit row.

The admin saves through these (its forms, inlines, list edits and delete actions alike), so a change
of what customers are sold is recorded with who made it and the values before and after.
"""

from billing.models import Plan, PlanAgent, PlanPrice
from tenants.services import delete_audited, save_audited

PLAN_FIELDS = [
    "code",
    "name",
    "name_ru",
    "description",
    "interval",
    "trial_days",
    "quota_requests",
    "quota_tokens_input",
    "quota_tokens_output",
    "channels",
    "features",
    "is_active",
    "is_free",
    "display_order",
]
PRICE_FIELDS = ["plan", "currency", "amount", "provider_ref"]
PLAN_AGENT_FIELDS = ["plan", "agent"]


def save_plan(*, plan: Plan, actor) -> Plan:
    return save_audited(instance=plan, fields=PLAN_FIELDS, action_prefix="plan", actor=actor)


def delete_plan(*, plan: Plan, actor) -> None:
    delete_audited(instance=plan, fields=PLAN_FIELDS, action_prefix="plan", actor=actor)


def save_plan_price(*, price: PlanPrice, actor) -> PlanPrice:
    return save_audited(instance=price, fields=PRICE_FIELDS, action_prefix="plan_price", actor=actor)


def delete_plan_price(*, price: PlanPrice, actor) -> None:
    delete_audited(instance=price, fields=PRICE_FIELDS, action_prefix="plan_price", actor=actor)


def save_plan_agent(*, plan_agent: PlanAgent, actor) -> PlanAgent:
    return save_audited(instance=plan_agent, fields=PLAN_AGENT_FIELDS, action_prefix="plan_agent", actor=actor)


def delete_plan_agent(*, plan_agent: PlanAgent, actor) -> None:
    delete_audited(instance=plan_agent, fields=PLAN_AGENT_FIELDS, action_prefix="plan_agent", actor=actor)
