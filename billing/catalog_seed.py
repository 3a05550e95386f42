"""The four plans of SPEC §4, created by `manage.py seed_plans`.

Seeding only creates what is missing: a plan that exists (by code) is left exactly as
the operator last edited it, prices included, so re-running the seed never undoes
console work.
"""

import logging
from decimal import Decimal

from django.db import transaction

from billing.models import Interval, Plan, PlanPrice
from botgeneric.channels import Channel

logger = logging.getLogger(__name__)

_BASE_CHANNELS = [Channel.WEB.value, Channel.TELEGRAM.value]
_API_CHANNELS = [*_BASE_CHANNELS, Channel.API.value]
# Plans with the `Deployments` feature also meter the website widget of a deployment (SPEC §4, issue 15).
_DEPLOYMENT_CHANNELS = [*_API_CHANNELS, Channel.WIDGET.value]
# Every plan, the trial plan above all, caps tokens as well as requests (500 in / 100 out per request on
# average), so no sign-up can spend unlimited LLM tokens. Seats (`max_members`, pending invitations
# included) grow with the plan: the short plans are for one person, the trial plan (monthly) has a small team.

PLAN_SEEDS: list[dict] = [
    {
        "code": "daily",
        "max_members": 1,
        "name": "Daily",
        "name_ru": "Дневной",
        "description": "A day of access to try the agents on a real task.",
        "interval": Interval.DAY,
        "trial_days": 0,
        "quota_requests": 100,
        "quota_tokens_input": 50_000,
        "quota_tokens_output": 10_000,
        "channels": _BASE_CHANNELS,
        "features": ["Email support"],
        "display_order": 10,
        "prices": {"USD": Decimal("0.99")},
    },
    {
        "code": "weekly",
        "max_members": 2,
        "name": "Weekly",
        "name_ru": "Недельный",
        "description": "A week of access for a short project.",
        "interval": Interval.WEEK,
        "trial_days": 0,
        "quota_requests": 1000,
        "quota_tokens_input": 500_000,
        "quota_tokens_output": 100_000,
        "channels": _BASE_CHANNELS,
        "features": ["Email support", "Chat support"],
        "display_order": 20,
        "prices": {"USD": Decimal("4.99")},
    },
    {
        "code": "monthly",
        "max_members": 5,
        "name": "Monthly",
        "name_ru": "Месячный",
        "description": "Everyday use in the web, Telegram and through the API.",
        "interval": Interval.MONTH,
        "trial_days": 14,
        "quota_requests": 10000,
        "quota_tokens_input": 5_000_000,
        "quota_tokens_output": 1_000_000,
        "channels": _DEPLOYMENT_CHANNELS,
        "features": ["Email support", "Chat support", "Priority support", "API access", "Deployments"],
        "display_order": 30,
        "prices": {"USD": Decimal("19.99"), "RUB": Decimal("990.00")},
    },
    {
        "code": "yearly",
        "max_members": 20,
        "name": "Yearly",
        "name_ru": "Годовой",
        "description": "A year of access with every agent, at the best price.",
        "interval": Interval.YEAR,
        "trial_days": 14,
        "quota_requests": 150000,
        "quota_tokens_input": 75_000_000,
        "quota_tokens_output": 15_000_000,
        "channels": _DEPLOYMENT_CHANNELS,
        "features": [
            "Email support",
            "Chat support",
            "Priority support",
            "Phone support",
            "API access",
            "Advanced analytics",
            "Deployments",
        ],
        "display_order": 40,
        "prices": {"USD": Decimal("199.99")},
    },
]


def seed_plans() -> list[str]:
    """Create the SPEC §4 plans that do not exist yet; return the codes created."""
    created_codes = []
    for seed in PLAN_SEEDS:
        fields = {key: value for key, value in seed.items() if key not in ("code", "prices")}
        fields["channels"] = list(fields["channels"])
        fields["features"] = list(fields["features"])
        with transaction.atomic():
            plan, created = Plan.objects.get_or_create(code=seed["code"], defaults=fields)
            if not created:
                continue
            PlanPrice.objects.bulk_create(
                [PlanPrice(plan=plan, currency=currency, amount=amount) for currency, amount in seed["prices"].items()]
            )
        created_codes.append(plan.code)
        logger.info("Seeded plan %s", plan.code)
    return created_codes
