from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from billing.catalog_seed import PLAN_SEEDS
from billing.models import Plan, PlanPrice

pytestmark = pytest.mark.django_db


def _snapshot():
    plans = list(Plan.objects.order_by("code").values())
    prices = list(PlanPrice.objects.order_by("plan__code", "currency").values())
    return plans, prices


def _seed():
    out = StringIO()
    call_command("seed_plans", stdout=out)
    return out.getvalue()


def test_seed_plans_creates_the_four_plans_of_the_spec():
    _seed()
    plans = {plan.code: plan for plan in Plan.objects.prefetch_related("prices")}
    assert list(plans) == ["daily", "weekly", "monthly", "yearly"]
    prices = {code: {p.currency: p.amount for p in plan.prices.all()} for code, plan in plans.items()}
    assert prices == {
        "daily": {"USD": Decimal("0.99")},
        "weekly": {"USD": Decimal("4.99")},
        "monthly": {"USD": Decimal("19.99"), "RUB": Decimal("990.00")},
        "yearly": {"USD": Decimal("199.99")},
    }
    assert [plans[c].interval for c in plans] == ["day", "week", "month", "year"]
    assert [plans[c].quota_requests for c in plans] == [100, 1000, 10000, 150000]
    assert plans["daily"].channels == ["web", "telegram"]
    assert plans["monthly"].channels == ["web", "telegram", "api", "widget"]
    assert "API access" in plans["monthly"].features
    assert [code for code, plan in plans.items() if "Deployments" in plan.features] == ["monthly", "yearly"]
    assert "API access" not in plans["weekly"].features
    assert {"Phone support", "Advanced analytics"} <= set(plans["yearly"].features)
    assert plans["monthly"].trial_days == 14
    assert all(plan.name_ru and plan.is_active for plan in plans.values())


def test_running_seed_plans_twice_changes_nothing():
    _seed()
    before = _snapshot()
    out = _seed()
    assert _snapshot() == before
    assert "nothing changed" in out


def test_seed_plans_keeps_an_operator_edit_and_recreates_only_what_is_missing():
    _seed()
    Plan.objects.filter(code="monthly").update(name="Pro", quota_requests=5)
    PlanPrice.objects.filter(plan__code="monthly", currency="RUB").delete()
    Plan.objects.filter(code="daily").delete()

    out = _seed()

    monthly = Plan.objects.get(code="monthly")
    assert (monthly.name, monthly.quota_requests) == ("Pro", 5)
    assert list(monthly.prices.values_list("currency", flat=True)) == ["USD"]
    assert Plan.objects.filter(code="daily").exists()
    assert "daily" in out
    assert Plan.objects.count() == len(PLAN_SEEDS)
