"""Issue 17 item 4: the operators' daily summary (revenue, cost, margin, errors of yesterday) to staff
users who opted in, sent once a day by a beat task."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from accounts.tests.factories import UserFactory
from billing.models import Invoice, PaymentStatus
from billing.services import apply_succeeded_payment
from billing.tests.account_factories import PaymentFactory
from notifications.services import update_preferences
from notifications.tasks import daily_summary
from usage.models import UsageEvent

pytestmark = pytest.mark.django_db


def yesterday(queryset):
    queryset.update(created_at=timezone.now() - timedelta(days=1))


def test_opted_in_operators_get_yesterdays_figures_once(account, plan, django_capture_on_commit_callbacks):
    reader = UserFactory(organization=None, is_staff=True, locale="en")
    UserFactory(organization=None, is_staff=True)  # did not opt in
    update_preferences(user=reader, changes={"daily_summary": True})
    with transaction.atomic():
        apply_succeeded_payment(
            payment=PaymentFactory(account=account, plan=plan, status=PaymentStatus.PENDING, amount="19.99"),
            actor_label="test",
        )
    Invoice.objects.update(issued_at=timezone.now() - timedelta(days=1))
    mail.outbox.clear()
    for outcome, cost in (("ok", "1.50"), ("ok", "0.49"), ("error", "0")):
        UsageEvent.objects.create(
            organization=account.organization, channel="web", outcome=outcome, cost_usd=Decimal(cost)
        )
    yesterday(UsageEvent.objects.all())
    UsageEvent.objects.create(organization=account.organization, channel="web", outcome="error")  # today

    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            daily_summary.delay()

    [message] = mail.outbox
    day = (timezone.localdate() - timedelta(days=1)).isoformat()
    assert message.to == [reader.email] and message.subject == f"Daily summary for {day}"
    assert "Revenue: 19.99 USD" in message.body
    assert "LLM cost: 1.99 USD" in message.body
    assert "Margin (USD revenue minus cost): 18.00 USD" in message.body
    assert "Calls: 3, failed: 1 (33.3 %)" in message.body
