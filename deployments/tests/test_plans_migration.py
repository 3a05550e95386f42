"""Issue 15: existing Monthly and Yearly plans gain deployments (the feature and the widget channel) by a
data migration; other plans and plans that have them already are left exactly as they are."""

import importlib

import pytest
from django.apps import apps

from billing.models import Plan
from billing.tests.factories import PlanFactory
from tenants.models import AuditEvent

pytestmark = pytest.mark.django_db

migration = importlib.import_module("deployments.migrations.0002_monthly_and_yearly_plans_deploy")


def migrate():
    migration.give_plans_deployments(apps, schema_editor=None)


def test_monthly_and_yearly_gain_deployments_and_the_widget_channel():
    monthly = PlanFactory(code="monthly", channels=["web", "telegram", "api"], features=["API access"])
    yearly = PlanFactory(code="yearly", channels=["web", "api"], features=["API access"], features_ru=["Доступ к API"])
    weekly = PlanFactory(code="weekly", channels=["web", "telegram"], features=["Chat support"])

    migrate()

    monthly.refresh_from_db(), yearly.refresh_from_db(), weekly.refresh_from_db()
    assert monthly.features == ["API access", "Deployments"] and monthly.features_ru == []
    assert monthly.channels == ["web", "telegram", "api", "widget"]
    assert yearly.features_ru == ["Доступ к API", "Развёртывания"] and "widget" in yearly.channels
    assert (weekly.features, weekly.channels) == (["Chat support"], ["web", "telegram"])
    changed = AuditEvent.objects.filter(action="plan.changed").order_by("target_id")
    assert [event.target_id for event in changed] == sorted([str(monthly.pk), str(yearly.pk)], key=int)
    assert changed.get(target_id=str(monthly.pk)).before["features"] == ["API access"]


def test_running_it_again_or_on_a_plan_that_has_deployments_changes_nothing():
    PlanFactory(code="monthly", channels=["web", "widget"], features=["deployments"])
    PlanFactory(code="yearly", channels=["web"], features=["API access"])
    migrate()
    before = list(Plan.objects.order_by("pk").values())
    audits = AuditEvent.objects.count()

    migrate()

    assert list(Plan.objects.order_by("pk").values()) == before
    assert AuditEvent.objects.count() == audits
    assert Plan.objects.get(code="monthly").features == ["deployments"]


def test_a_policy_check_passes_once_the_plan_is_migrated():
    from policy.services import require_feature
    from policy.tests.factories import BillingAccountFactory

    plan = PlanFactory(code="monthly", channels=["web"], features=["API access"])
    account = BillingAccountFactory(plan=plan)
    migrate()

    assert require_feature(organization_id=account.organization_id, feature="deployments") is not None
