"""Issue 20 item 2: a failed renewal is past_due — access kept for BILLING_GRACE_DAYS, the owner told,
the saved card retried once a day (YooKassa, against the fake API), expired after the grace."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.tests.factories import UserFactory
from billing.models import AccountStatus, BillingAccount, Payment, PaymentStatus
from billing.periods import add_interval
from billing.tests.account_factories import BillingAccountFactory
from tenants.models import AuditEvent, Role
from testing.fakes.telegram_api import BOT_ID, FakeTelegramAPI

pytestmark = pytest.mark.django_db

BOT_TOKEN = f"{BOT_ID}:TEST-token-for-billing-notices"


@pytest.fixture
def bot_api(settings):
    server = FakeTelegramAPI(token=BOT_TOKEN).start()
    settings.TELEGRAM_BOT_TOKEN = BOT_TOKEN
    settings.TELEGRAM_API_SERVER = server.base_url
    yield server
    server.stop()


@pytest.fixture
def owner(monthly):
    account = BillingAccountFactory(
        plan=monthly, provider="yookassa", currency="RUB", provider_payment_method_id="pm-saved-1"
    )
    return UserFactory(organization=account.organization, role=Role.OWNER, locale="ru", telegram_id=777000111)


def account_of(user) -> BillingAccount:
    return BillingAccount.objects.get(organization=user.organization)


def end_period(user) -> None:
    BillingAccount.objects.filter(organization=user.organization).update(
        current_period_end=timezone.now() - timedelta(seconds=1)
    )


def tick(capture) -> None:
    with capture(execute=True):
        call_command("billing_tick")


def days_later(user, days: float) -> None:
    """As if `days` passed since the account became past_due and since its last charge attempt."""
    shift = timedelta(days=days)
    account = account_of(user)
    BillingAccount.objects.filter(pk=account.pk).update(past_due_since=account.past_due_since - shift)
    for payment in Payment.objects.filter(account=account):
        Payment.objects.filter(pk=payment.pk).update(created_at=payment.created_at - shift)


def test_a_declined_renewal_tells_the_owner_by_mail_and_telegram_in_their_language(
    owner, fake_yookassa, bot_api, django_capture_on_commit_callbacks
):
    fake_yookassa.auto_status = "canceled"
    end_period(owner)

    tick(django_capture_on_commit_callbacks)

    account = account_of(owner)
    assert account.status == AccountStatus.PAST_DUE
    [message] = mail.outbox
    assert message.to == [owner.email]
    assert "Не удалось оплатить тариф" in message.subject
    assert "http://127.0.0.1:8000/billing/" in message.body
    [text] = bot_api.sent_texts(chat_id=owner.telegram_id)
    assert "Доступ сохраняется до" in text and "/billing/" in text
    [row] = AuditEvent.objects.filter(action="subscription.past_due", organization=owner.organization)
    assert (row.before["status"], row.after["status"]) == ("active", "past_due")


def test_the_saved_card_is_retried_once_a_day_during_the_grace(
    owner, fake_yookassa, settings, django_capture_on_commit_callbacks
):
    settings.BILLING_GRACE_DAYS = 3
    fake_yookassa.auto_status = "canceled"
    end_period(owner)
    tick(django_capture_on_commit_callbacks)
    old_end = account_of(owner).current_period_end

    tick(django_capture_on_commit_callbacks)
    days_later(owner, 0.5)
    tick(django_capture_on_commit_callbacks)
    assert len([r for r in fake_yookassa.requests if r[0] == "POST"]) == 1

    days_later(owner, 0.6)
    tick(django_capture_on_commit_callbacks)
    charges = [r for r in fake_yookassa.requests if r[0] == "POST"]
    assert len(charges) == 2
    assert charges[1][3]["payment_method_id"] == "pm-saved-1"
    assert charges[1][2]["Idempotence-Key"] != charges[0][2]["Idempotence-Key"]
    assert account_of(owner).status == AccountStatus.PAST_DUE
    assert len(mail.outbox) == 1

    fake_yookassa.auto_status = "succeeded"
    days_later(owner, 1)
    tick(django_capture_on_commit_callbacks)

    account = account_of(owner)
    assert len([r for r in fake_yookassa.requests if r[0] == "POST"]) == 3
    assert account.status == AccountStatus.ACTIVE and account.past_due_since is None
    assert (account.current_period_start, account.current_period_end) == (old_end, add_interval(old_end, "month"))
    assert Payment.objects.filter(account=account, status=PaymentStatus.SUCCEEDED).count() == 1
    [row] = AuditEvent.objects.filter(action="subscription.renewed", organization=owner.organization)
    assert (row.before["status"], row.after["status"], row.actor_label) == ("past_due", "active", "billing_tick")


def test_after_the_grace_the_account_expires_without_another_charge(
    owner, fake_yookassa, settings, django_capture_on_commit_callbacks
):
    settings.BILLING_GRACE_DAYS = 3
    fake_yookassa.auto_status = "canceled"
    end_period(owner)
    tick(django_capture_on_commit_callbacks)
    days_later(owner, 3.01)

    tick(django_capture_on_commit_callbacks)

    assert account_of(owner).status == AccountStatus.EXPIRED
    assert len([r for r in fake_yookassa.requests if r[0] == "POST"]) == 1
    assert AuditEvent.objects.filter(action="subscription.expired", organization=owner.organization).exists()


def test_dashboard_and_billing_page_show_the_overdue_banner_with_a_way_to_pay(owner, fake_yookassa, settings):
    settings.BILLING_GRACE_DAYS = 3
    fake_yookassa.auto_status = "canceled"
    end_period(owner)
    call_command("billing_tick")
    client = Client()
    client.force_login(owner)

    dashboard = client.get("/dashboard/").content.decode()
    billing = client.get("/billing/").content.decode()

    assert 'id="payment-overdue"' in dashboard
    assert 'href="/billing/#subscription-title"' in dashboard
    assert 'id="payment-overdue"' in billing
    assert "Оплатить" in billing  # the current plan's card offers to pay again
    BillingAccount.objects.filter(organization=owner.organization).update(status=AccountStatus.ACTIVE)
    assert 'id="payment-overdue"' not in client.get("/dashboard/").content.decode()
