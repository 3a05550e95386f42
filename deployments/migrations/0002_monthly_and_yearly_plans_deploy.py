"""Existing Monthly and Yearly plans get the `Deployments` feature and the `widget` channel, as
`seed_plans` gives them on a new install (issue 15). Idempotent: a plan that has them is left alone;
each plan changed leaves a `plan.changed` audit row."""

from django.db import migrations

PLAN_CODES = ("monthly", "yearly")
FEATURE = "Deployments"
FEATURE_RU = "Развёртывания"
CHANNEL = "widget"


def _key(feature: str) -> str:
    # As policy.services.feature_key: "Deployments", "deployments" and " deployments " are one feature.
    return "_".join(feature.lower().split())


def give_plans_deployments(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    AuditEvent = apps.get_model("tenants", "AuditEvent")
    for plan in Plan.objects.filter(code__in=PLAN_CODES).order_by("pk"):
        before = {"features": list(plan.features or []), "channels": list(plan.channels or [])}
        features, channels = list(before["features"]), list(before["channels"])
        if _key(FEATURE) not in {_key(name) for name in features}:
            features.append(FEATURE)
            # A Russian feature list is parallel to the English one: it gets the same line.
            if plan.features_ru and _key(FEATURE_RU) not in {_key(name) for name in plan.features_ru}:
                plan.features_ru = [*plan.features_ru, FEATURE_RU]
        if CHANNEL not in channels:
            channels.append(CHANNEL)
        after = {"features": features, "channels": channels}
        if after == before:
            continue
        plan.features, plan.channels = features, channels
        plan.save(update_fields=["features", "features_ru", "channels"])
        AuditEvent.objects.create(
            actor_label="migration deployments.0002",
            action="plan.changed",
            target_type="billing.plan",
            target_id=str(plan.pk),
            before=before,
            after=after,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("deployments", "0001_initial"),
        ("billing", "0006_alter_plan_channels"),
        ("tenants", "0002_api_key_scopes"),
    ]

    operations = [migrations.RunPython(give_plans_deployments, migrations.RunPython.noop)]
