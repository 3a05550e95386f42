"""Issue 17 item 4: payment receipt (numbered invoice), failed renewal, trial ending in 3 days,
subscription canceled or expired — each once, to owners and admins, in their language."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from accounts.tests.factories import UserFactory
from billing.models import AccountStatus, Invoice, PaymentStatus
from billing.services import apply_succeeded_payment
from billing.tests.account_factories import BillingAccountFactory, PaymentFactory
from notifications.models import Kind, Notification
from notifications.services import update_preferences
from notifications.tasks import trials_ending

pytestmark = pytest.mark.django_db


def pay(payment, capture):
    with capture(execute=True), transaction.atomic():
        return apply_succeeded_payment(payment=payment, actor_label="webhook:test:1")


def test_a_payment_gets_a_numbered_invoice_and_a_receipt_once(
    account, plan, owner, admin, member, bot_api, django_capture_on_commit_callbacks
):
    payment = PaymentFactory(account=account, plan=plan, status=PaymentStatus.PENDING, amount="19.99")

    assert pay(payment, django_capture_on_commit_callbacks) is True
    assert pay(payment, django_capture_on_commit_callbacks) is False  # the provider's report delivered again

    [invoice] = Invoice.objects.all()
    assert invoice.number == f"INV-{timezone.now().year}-000001"
    assert sorted(message.to[0] for message in mail.outbox) == sorted([owner.email, admin.email])
    english = next(message for message in mail.outbox if message.to == [owner.email])
    assert english.subject == f"Payment received: invoice {invoice.number}"
    assert "We received 19.99 USD for the Monthly plan" in english.body
    assert f"http://127.0.0.1:8000/billing/invoices/{invoice.pk}/" in english.body
    [telegram] = bot_api.sent_texts(chat_id=admin.telegram_id)
    assert telegram.startswith(f"Оплата получена: счёт {invoice.number}")
    assert "Мы получили 19,99 USD за тариф Месячный" in telegram


def test_a_free_payment_has_no_invoice(account, plan, owner, django_capture_on_commit_callbacks):
    pay(PaymentFactory(account=account, plan=plan, amount="0.00"), django_capture_on_commit_callbacks)
    assert not Invoice.objects.exists()
    assert mail.outbox == []


def test_a_failed_renewal_tells_the_grace_days_left_once(
    account, owner, admin, settings, django_capture_on_commit_callbacks
):
    settings.BILLING_GRACE_DAYS = 3
    account.provider = "yookassa"  # no saved payment method: the renewal cannot be charged
    account.current_period_end = timezone.now() - timedelta(seconds=1)
    account.save()
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            call_command("billing_tick")

    account.refresh_from_db()
    assert account.status == AccountStatus.PAST_DUE
    assert sorted(message.to[0] for message in mail.outbox) == sorted([owner.email, admin.email])
    english = next(message for message in mail.outbox if message.to == [owner.email])
    assert english.subject == "Payment for your Monthly plan failed"
    assert "(3 days left)" in english.body
    russian = next(message for message in mail.outbox if message.to == [admin.email])
    assert "(осталось 3 дня)" in russian.body


def test_the_trial_ending_in_three_days_is_told_once(plan, django_capture_on_commit_callbacks):
    ending = BillingAccountFactory(
        plan=plan, status=AccountStatus.TRIALING, trial_end=timezone.now() + timedelta(days=2)
    )
    later = BillingAccountFactory(
        plan=plan, status=AccountStatus.TRIALING, trial_end=timezone.now() + timedelta(days=5)
    )
    told = UserFactory(organization=ending.organization, locale="ru")
    UserFactory(organization=later.organization)

    with django_capture_on_commit_callbacks(execute=True):
        assert trials_ending.delay().get() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert trials_ending.delay().get() == 0

    [message] = mail.outbox
    assert message.to == [told.email]
    assert message.subject.startswith("Пробный период заканчивается")
    assert "Пробный период тарифа Месячный заканчивается" in message.body


@pytest.mark.parametrize(
    ("status", "cancel_at_period_end", "subject"),
    [
        (AccountStatus.ACTIVE, True, "Your Monthly subscription was canceled"),
        (AccountStatus.TRIALING, False, "Your Monthly trial has ended"),
    ],
)
def test_a_subscription_that_ends_is_told_once(
    plan, status, cancel_at_period_end, subject, django_capture_on_commit_callbacks
):
    account = BillingAccountFactory(
        plan=plan,
        status=status,
        cancel_at_period_end=cancel_at_period_end,
        current_period_end=timezone.now() - timedelta(seconds=1),
    )
    owner = UserFactory(organization=account.organization)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            call_command("billing_tick")

    [message] = mail.outbox
    assert message.to == [owner.email] and message.subject == subject
    assert Notification.objects.get().kind == Kind.SUBSCRIPTION_ENDED


def test_switched_off_receipts_are_not_sent(account, plan, owner, django_capture_on_commit_callbacks):
    update_preferences(user=owner, changes={"payment_receipt": False})
    pay(PaymentFactory(account=account, plan=plan, status=PaymentStatus.PENDING), django_capture_on_commit_callbacks)
    assert Invoice.objects.count() == 1
    assert mail.outbox == []
