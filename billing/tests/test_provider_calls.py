"""Issue 11 #3: payment providers are called outside any database transaction, with an HTTP timeout.

The fakes run `before_answer` in their server thread while our request waits for them: from there a
second database session reads pg_stat_activity for the app's session, which must not be `idle in
transaction` (a transaction holding the account's row lock while the provider thinks)."""

import threading
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import UserFactory
from billing.models import AccountStatus, BillingAccount, Payment, PaymentStatus, WebhookEvent, WebhookOutcome
from billing.tests.account_factories import BillingAccountFactory
from billing.tests.confirming import confirmed
from billing.tests.test_webhooks_yookassa import notify

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def client_for(user) -> APIClient:
    client = APIClient()
    client.default_format = "json"
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def owner(db):
    return UserFactory()


class SessionWatch:
    """Looks at the app's database session from a fake's server thread, while the app waits for it."""

    def __init__(self):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            [self.app_pid] = cursor.fetchone()
        self.seen: list[tuple[str, str, str, bool]] = []

    def look(self, method: str, path: str) -> None:
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute(
                    "SELECT state, xact_start IS NOT NULL FROM pg_stat_activity WHERE pid = %s", [self.app_pid]
                )
                state, in_transaction = cursor.fetchone()
            self.seen.append((method, path.split("?")[0], state, in_transaction))
        finally:
            connections["default"].close()

    def assert_outside_transactions(self, count: int) -> None:
        assert len(self.seen) == count, self.seen
        for method, path, state, in_transaction in self.seen:
            assert (state, in_transaction) == ("idle", False), f"{method} {path} was called inside a transaction"


@pytest.fixture
def sessions_seen(transactional_db):
    return SessionWatch()


def test_paddle_checkout_runs_outside_any_transaction(owner, fake_paddle, monthly, sessions_seen):
    fake_paddle.prices["pri_monthly_USD"] = ("1999", "USD")
    fake_paddle.before_answer = sessions_seen.look

    response = confirmed(client_for(owner), "/api/v1/billing/subscribe", {"plan": "monthly", "provider": "paddle"})

    assert response.status_code == 200, response.content
    sessions_seen.assert_outside_transactions(1)
    assert Payment.objects.get().external_id.startswith("txn_")


def test_yookassa_subscribe_and_payment_run_outside_any_transaction(owner, fake_yookassa, monthly, sessions_seen):
    fake_yookassa.before_answer = sessions_seen.look
    client = client_for(owner)

    subscribed = confirmed(client, "/api/v1/billing/subscribe", {"plan": "monthly", "provider": "yookassa"})
    paid = client.post("/api/v1/billing/payment", {"plan": "monthly", "provider": "yookassa"})

    assert (subscribed.status_code, paid.status_code) == (200, 201)
    sessions_seen.assert_outside_transactions(2)
    assert set(Payment.objects.values_list("external_id", flat=True)) == set(fake_yookassa.payments)


def test_yookassa_notification_refetches_the_payment_outside_any_transaction(
    owner, fake_yookassa, monthly, sessions_seen
):
    body = client_for(owner).post("/api/v1/billing/payment", {"plan": "monthly", "provider": "yookassa"}).json()
    fake_yookassa.set_status(body["provider_payment_id"], "succeeded")
    fake_yookassa.before_answer = sessions_seen.look

    response = notify(Client(), body["provider_payment_id"])

    assert response.json()["outcome"] == "processed"
    sessions_seen.assert_outside_transactions(1)
    assert BillingAccount.objects.get(organization=owner.organization).status == AccountStatus.ACTIVE


def test_billing_tick_charges_renewals_outside_any_transaction(fake_yookassa, monthly, sessions_seen):
    account = BillingAccountFactory(
        plan=monthly, provider="yookassa", currency="RUB", provider_payment_method_id="pm-1"
    )
    BillingAccount.objects.filter(pk=account.pk).update(current_period_end=timezone.now() - timedelta(seconds=1))
    fake_yookassa.before_answer = sessions_seen.look

    call_command("billing_tick")

    sessions_seen.assert_outside_transactions(1)
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE and account.current_period_end > timezone.now()
    assert Payment.objects.get(account=account).status == PaymentStatus.SUCCEEDED


def test_billing_tick_asks_paddle_about_an_unreported_renewal_outside_any_transaction(
    fake_paddle, monthly, sessions_seen, settings
):
    fake_paddle.prices["pri_monthly_USD"] = ("1999", "USD")
    fake_paddle.add_subscription("sub_1", price_id="pri_monthly_USD")
    account = BillingAccountFactory(plan=monthly, provider="paddle", provider_subscription_id="sub_1")
    ended = timezone.now() - timedelta(hours=settings.BILLING_RENEWAL_WAIT_HOURS, seconds=1)
    BillingAccount.objects.filter(pk=account.pk).update(current_period_end=ended)
    fake_paddle.before_answer = sessions_seen.look

    call_command("billing_tick")

    sessions_seen.assert_outside_transactions(1)
    account.refresh_from_db()
    assert account.provider_event_at is not None and account.status == AccountStatus.ACTIVE


def test_paddle_cancel_and_downgrade_run_outside_any_transaction(owner, fake_paddle, monthly, yearly, sessions_seen):
    fake_paddle.prices.update({"pri_monthly_USD": ("1999", "USD"), "pri_yearly_USD": ("19999", "USD")})
    fake_paddle.add_subscription("sub_01", price_id="pri_yearly_USD")
    BillingAccountFactory(
        organization=owner.organization, plan=yearly, provider="paddle", provider_subscription_id="sub_01"
    )
    fake_paddle.before_answer = sessions_seen.look
    client = client_for(owner)

    downgraded = confirmed(client, "/api/v1/billing/subscribe", {"plan": "monthly", "provider": "paddle"})
    canceled = confirmed(client, "/api/v1/billing/cancel", {"immediate": False})

    assert (downgraded.status_code, canceled.status_code) == (200, 200)
    sessions_seen.assert_outside_transactions(2)
    account = BillingAccount.objects.get(organization=owner.organization)
    assert (account.scheduled_plan, account.cancel_at_period_end) == (monthly, True)


@pytest.mark.parametrize("provider", ["paddle", "yookassa"])
def test_a_hung_provider_gives_a_timeout_error_not_a_hang(
    owner, fake_paddle, fake_yookassa, monthly, settings, provider
):
    settings.PROVIDER_HTTP_TIMEOUT_SECONDS = 0.5
    fake_paddle.prices["pri_monthly_USD"] = ("1999", "USD")
    fake = fake_paddle if provider == "paddle" else fake_yookassa
    fake.hang_seconds = 10

    started = time.monotonic()
    response = confirmed(client_for(owner), "/api/v1/billing/subscribe", {"plan": "monthly", "provider": provider})

    assert time.monotonic() - started < 5
    assert response.status_code == 504
    assert response.json()["code"] == "provider_timeout"
    assert not Payment.objects.exists()


def test_a_hung_yookassa_leaves_the_notification_failed_and_retryable(owner, fake_yookassa, monthly, settings):
    body = client_for(owner).post("/api/v1/billing/payment", {"plan": "monthly", "provider": "yookassa"}).json()
    settings.PROVIDER_HTTP_TIMEOUT_SECONDS = 0.5
    fake_yookassa.hang_seconds = 10

    response = notify(Client(), body["provider_payment_id"])

    assert response.status_code == 500
    event = WebhookEvent.objects.get()
    assert event.outcome == WebhookOutcome.FAILED
    assert "ProviderTimeout" in event.error


def test_a_cancel_is_not_blocked_while_the_provider_hangs_on_a_checkout(owner, fake_paddle, monthly, settings):
    settings.PROVIDER_HTTP_TIMEOUT_SECONDS = 5
    fake_paddle.prices["pri_monthly_USD"] = ("1999", "USD")
    BillingAccountFactory(organization=owner.organization, plan=monthly, status=AccountStatus.TRIALING)
    fake_paddle.hang_seconds = 3
    checkout_reached_paddle = threading.Event()
    fake_paddle.before_answer = lambda method, path: checkout_reached_paddle.set()
    checkout_answers = []

    def checkout():
        try:
            checkout_answers.append(
                confirmed(client_for(owner), "/api/v1/billing/subscribe", {"plan": "monthly", "provider": "paddle"})
            )
        finally:
            connection.close()

    thread = threading.Thread(target=checkout)
    thread.start()
    assert checkout_reached_paddle.wait(5)
    fake_paddle.before_answer = None
    started = time.monotonic()
    canceled = confirmed(client_for(owner), "/api/v1/billing/cancel", {"immediate": True})
    waited = time.monotonic() - started
    thread.join(10)

    assert canceled.status_code == 200, canceled.content
    assert waited < 1.5, f"the cancel waited {waited:.1f}s behind the checkout"
    assert [answer.status_code for answer in checkout_answers] == [200]


def test_a_billing_write_waits_for_a_locked_account_only_up_to_the_lock_timeout(owner, monthly, settings):
    settings.BILLING_LOCK_TIMEOUT_SECONDS = 0.3
    account = BillingAccountFactory(organization=owner.organization, plan=monthly)
    locked, release = threading.Event(), threading.Event()

    def hold_the_row_lock():
        try:
            with transaction.atomic():
                BillingAccount.objects.select_for_update().get(pk=account.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_row_lock)
    holder.start()
    assert locked.wait(5)
    try:
        started = time.monotonic()
        response = confirmed(client_for(owner), "/api/v1/billing/cancel", {"immediate": True})
        waited = time.monotonic() - started
    finally:
        release.set()
        holder.join(10)

    assert response.status_code == 503
    assert response.json()["code"] == "billing_busy"
    assert waited < 3
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE


def test_a_downgrade_is_refused_when_the_subscription_changed_while_paddle_was_asked(
    owner, fake_paddle, monthly, yearly
):
    fake_paddle.prices.update({"pri_monthly_USD": ("1999", "USD"), "pri_yearly_USD": ("19999", "USD")})
    fake_paddle.add_subscription("sub_01", price_id="pri_yearly_USD")
    account = BillingAccountFactory(
        organization=owner.organization, plan=yearly, provider="paddle", provider_subscription_id="sub_01"
    )

    def replaced_meanwhile(method, path):
        try:
            BillingAccount.objects.filter(pk=account.pk).update(provider_subscription_id="sub_02")
        finally:
            connections["default"].close()

    fake_paddle.before_answer = replaced_meanwhile

    response = confirmed(client_for(owner), "/api/v1/billing/subscribe", {"plan": "monthly", "provider": "paddle"})

    assert response.status_code == 409
    assert response.json()["code"] == "changed_meanwhile"
    account.refresh_from_db()
    assert account.scheduled_plan is None
