"""Each lifecycle transition and the audit row it leaves (service level: many cases, one rule each)."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.tests.factories import UserFactory
from billing import services
from billing.models import AccountStatus, BillingAccount, Payment, PaymentStatus
from billing.periods import add_interval
from billing.services import BillingError
from billing.tests.account_factories import BillingAccountFactory
from billing.tests.confirming import confirmation_for
from tenants.models import AuditEvent
from tenants.tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def audit_rows(organization, action):
    return list(AuditEvent.objects.filter(organization=organization, action=action))


def end_period(account, days_ago=0, **fields):
    """Move the account's period end into the past, as if time had passed."""
    BillingAccount.objects.filter(pk=account.pk).update(
        current_period_end=timezone.now() - timedelta(days=days_ago, seconds=1), **fields
    )


def tick():
    call_command("billing_tick")


def test_registration_starts_one_trial_of_the_trial_plan(api_client, monthly):
    response = api_client.post(
        "/api/v1/auth/register", {"email": "t@example.com", "password": "correct-horse-battery-9"}, format="json"
    )
    assert response.status_code == 201, response.content
    account = BillingAccount.objects.get(organization_id=response.json()["organization"]["id"])
    assert account.status == AccountStatus.TRIALING
    assert account.plan == monthly
    assert account.trial_used
    assert account.trial_end - account.current_period_start == timedelta(days=monthly.trial_days)
    [row] = audit_rows(account.organization, "subscription.trial_started")
    assert row.before["status"] == "none" and row.after["status"] == "trialing"
    assert row.actor.email == "t@example.com"


def test_trial_is_given_once_per_organization(monthly):
    organization = OrganizationFactory()
    services.start_trial(organization=organization, actor=None)
    services.cancel(organization=organization, immediate=True, actor=None)
    account = services.start_trial(organization=organization, actor=None)
    assert account.status == AccountStatus.CANCELED
    assert len(audit_rows(organization, "subscription.trial_started")) == 1


def test_registration_without_seeded_trial_plan_creates_account_with_status_none(api_client, caplog):
    response = api_client.post(
        "/api/v1/auth/register", {"email": "n@example.com", "password": "correct-horse-battery-9"}, format="json"
    )
    assert response.status_code == 201
    account = BillingAccount.objects.get(organization_id=response.json()["organization"]["id"])
    assert account.status == AccountStatus.NONE
    assert "trial plan" in caplog.text


def test_manual_subscribe_from_trial_activates_now_keeps_the_trial_days_and_records_payment(monthly):
    organization = OrganizationFactory()
    trial_end = services.start_trial(organization=organization, actor=None).trial_end
    result = services.subscribe(organization=organization, plan="monthly", provider="manual", actor=None)
    account = result.account
    assert result.checkout_url is None
    assert account.status == AccountStatus.ACTIVE
    assert account.current_period_start <= timezone.now()
    assert account.current_period_end == add_interval(trial_end, "month")
    payment = Payment.objects.get(account=account)
    assert (payment.status, payment.period_start, payment.period_end) == (
        PaymentStatus.SUCCEEDED,
        trial_end,
        account.current_period_end,
    )
    [row] = audit_rows(organization, "subscription.activated")
    assert row.before["status"] == "trialing" and row.after["status"] == "active"


def test_subscribing_to_the_current_plan_again_is_refused(monthly):
    account = BillingAccountFactory(plan=monthly)
    with pytest.raises(BillingError) as error:
        services.subscribe(organization=account.organization, plan=monthly, provider="manual", actor=None)
    assert error.value.code == "already_subscribed"


def test_upgrade_takes_effect_at_once_with_a_new_period(monthly, yearly):
    account = BillingAccountFactory(plan=monthly)
    result = services.subscribe(organization=account.organization, plan=yearly, provider="manual", actor=None)
    account.refresh_from_db()
    assert account.plan == yearly
    assert account.current_period_start > timezone.now() - timedelta(minutes=1)
    assert account.current_period_end == add_interval(account.current_period_start, "year")
    assert result.account.status == AccountStatus.ACTIVE
    [row] = audit_rows(account.organization, "subscription.upgraded")
    assert row.before["plan"] == "monthly" and row.after["plan"] == "yearly"


def test_downgrade_waits_for_the_period_end(monthly, yearly):
    account = BillingAccountFactory(plan=yearly)
    period_end = account.current_period_end
    services.subscribe(organization=account.organization, plan=monthly, provider="manual", actor=None)
    account.refresh_from_db()
    assert (account.plan, account.scheduled_plan, account.current_period_end) == (yearly, monthly, period_end)
    assert audit_rows(account.organization, "subscription.downgrade_scheduled")

    end_period(account)
    tick()
    account.refresh_from_db()
    assert account.plan == monthly and account.scheduled_plan is None
    assert account.status == AccountStatus.ACTIVE
    assert account.current_period_end > timezone.now()
    [row] = audit_rows(account.organization, "subscription.downgraded")
    assert row.before["plan"] == "yearly" and row.after["plan"] == "monthly"
    assert row.actor_label == "billing_tick"


def test_cancel_at_period_end_keeps_access_until_then(monthly):
    account = BillingAccountFactory(plan=monthly)
    services.cancel(organization=account.organization, actor=None)
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE and account.cancel_at_period_end
    assert audit_rows(account.organization, "subscription.cancel_scheduled")

    tick()
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE

    end_period(account)
    tick()
    account.refresh_from_db()
    assert account.status == AccountStatus.CANCELED
    [row] = audit_rows(account.organization, "subscription.canceled")
    assert (row.before["status"], row.after["status"], row.actor_label) == ("active", "canceled", "billing_tick")


def test_cancel_immediately_ends_the_period_now(monthly):
    account = BillingAccountFactory(plan=monthly)
    user = UserFactory(organization=account.organization)
    token = confirmation_for(organization=account.organization, actor=user, cancel=True, immediate=True)
    services.cancel(organization=account.organization, immediate=True, actor=user, confirmation=token)
    account.refresh_from_db()
    assert account.status == AccountStatus.CANCELED
    assert account.current_period_end <= timezone.now()
    [row] = audit_rows(account.organization, "subscription.canceled")
    assert row.actor == user


def test_cancel_without_subscription_is_refused():
    organization = OrganizationFactory()
    with pytest.raises(BillingError) as error:
        services.cancel(organization=organization, actor=None)
    assert error.value.code == "not_subscribed"


def test_resume_undoes_a_scheduled_cancellation(monthly):
    account = BillingAccountFactory(plan=monthly, cancel_at_period_end=True)
    services.resume(organization=account.organization, actor=None)
    account.refresh_from_db()
    assert not account.cancel_at_period_end
    [row] = audit_rows(account.organization, "subscription.resumed")
    assert row.before["cancel_at_period_end"] is True and row.after["cancel_at_period_end"] is False


def test_resume_after_the_period_ended_is_refused(monthly):
    account = BillingAccountFactory(plan=monthly, cancel_at_period_end=True)
    end_period(account)
    with pytest.raises(BillingError) as error:
        services.resume(organization=account.organization, actor=None)
    assert error.value.code == "not_resumable"


def test_manual_subscription_renews_at_period_end(monthly):
    account = BillingAccountFactory(plan=monthly)
    end_period(account)
    old_end = BillingAccount.objects.get(pk=account.pk).current_period_end
    tick()
    account.refresh_from_db()
    assert account.current_period_start == old_end
    assert account.current_period_end == add_interval(old_end, "month")
    [row] = audit_rows(account.organization, "subscription.renewed")
    assert row.actor_label == "billing_tick"


def test_ended_trial_expires(monthly):
    organization = OrganizationFactory()
    account = services.start_trial(organization=organization, actor=None)
    end_period(account)
    tick()
    account.refresh_from_db()
    assert account.status == AccountStatus.EXPIRED
    assert audit_rows(organization, "subscription.expired")


def test_failed_renewal_goes_past_due_then_expires_after_grace(monthly, settings):
    settings.BILLING_GRACE_DAYS = 3
    account = BillingAccountFactory(plan=monthly, provider="yookassa")
    end_period(account)
    tick()
    account.refresh_from_db()
    assert account.status == AccountStatus.PAST_DUE
    assert audit_rows(account.organization, "subscription.past_due")

    BillingAccount.objects.filter(pk=account.pk).update(past_due_since=timezone.now() - timedelta(days=2))
    tick()
    account.refresh_from_db()
    assert account.status == AccountStatus.PAST_DUE

    BillingAccount.objects.filter(pk=account.pk).update(past_due_since=timezone.now() - timedelta(days=3, seconds=1))
    tick()
    account.refresh_from_db()
    assert account.status == AccountStatus.EXPIRED
    [row] = audit_rows(account.organization, "subscription.expired")
    assert row.before["status"] == "past_due"


def test_tick_twice_in_a_row_changes_nothing_the_second_time(monthly):
    account = BillingAccountFactory(plan=monthly)
    end_period(account)
    tick()
    rows = AuditEvent.objects.count()
    tick()
    assert AuditEvent.objects.count() == rows
    assert Payment.objects.filter(account=account).count() == 1


def test_operator_grant_gives_periods_then_ends(yearly):
    organization = OrganizationFactory()
    operator = UserFactory(is_staff=True, organization=None)
    account = services.grant_plan(organization=organization, plan=yearly, periods=2, actor=operator)
    assert account.status == AccountStatus.ACTIVE
    assert account.current_period_end == add_interval(account.current_period_start, "year", 2)
    [row] = audit_rows(organization, "subscription.granted")
    assert row.actor == operator


def test_operator_extends_a_running_trial(monthly):
    organization = OrganizationFactory()
    trial = services.start_trial(organization=organization, actor=None)
    operator = UserFactory(is_staff=True, organization=None)
    account = services.extend_trial(organization=organization, days=7, actor=operator)
    assert account.trial_end == trial.trial_end + timedelta(days=7)
    assert account.current_period_end == account.trial_end
    assert audit_rows(organization, "subscription.trial_extended")
