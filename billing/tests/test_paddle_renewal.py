"""Issue 20 item 1: Paddle renews by itself. At period end billing_tick charges nothing and the account
stays live until Paddle reports otherwise; without a renewal event for BILLING_RENEWAL_WAIT_HOURS the
tick asks Paddle's API (the real SDK against the fake) and applies what it says."""

import copy
from datetime import UTC, timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from agents.tests.factories import AgentFactory
from billing.models import AccountStatus, BillingAccount
from billing.tests.account_factories import BillingAccountFactory
from billing.tests.paddle_signing import notification, post_paddle
from tenants.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def paddle(fake_paddle, monthly, settings):
    settings.BILLING_RENEWAL_WAIT_HOURS = 6
    fake_paddle.prices["pri_monthly_USD"] = ("1999", "USD")
    fake_paddle.add_subscription("sub_01", price_id="pri_monthly_USD")
    return fake_paddle


@pytest.fixture
def agent(monthly):
    agent = AgentFactory(with_prompt=True)
    monthly.agents.add(agent)
    return agent


@pytest.fixture
def on_paddle(auth_client, paddle, monthly):
    return BillingAccountFactory(
        organization=auth_client.user.organization, plan=monthly, provider="paddle", provider_subscription_id="sub_01"
    )


def period_ended(account, hours_ago: float) -> BillingAccount:
    BillingAccount.objects.filter(pk=account.pk).update(current_period_end=timezone.now() - timedelta(hours=hours_ago))
    return BillingAccount.objects.get(pk=account.pk)


def paddle_time(moment) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def set_at_paddle(paddle, *, status: str, start, end) -> None:
    subscription = paddle.subscriptions["sub_01"]
    subscription["status"] = status
    subscription["current_billing_period"] = {"starts_at": paddle_time(start), "ends_at": paddle_time(end)}


def asked(paddle) -> list:
    return [r for r in paddle.requests if r[:2] == ("GET", "/subscriptions/sub_01")]


def invoke(auth_client, agent):
    return auth_client.post(f"/api/v1/agents/{agent.pk}/invoke", {"input": "Hello"}, format="json")


def test_at_period_end_a_paddle_account_is_not_charged_and_keeps_access(auth_client, on_paddle, paddle, agent):
    period_ended(on_paddle, hours_ago=1)

    call_command("billing_tick")

    account = BillingAccount.objects.get(pk=on_paddle.pk)
    assert account.status == AccountStatus.ACTIVE and account.past_due_since is None
    assert paddle.requests == []
    assert not account.payments.exists()
    assert not AuditEvent.objects.filter(organization=account.organization).exists()
    assert invoke(auth_client, agent).status_code == 200


def test_paddle_past_due_event_starts_the_grace_and_tells_the_owner(
    api_client, auth_client, on_paddle, paddle, agent, django_capture_on_commit_callbacks
):
    data = copy.deepcopy(paddle.subscriptions["sub_01"])
    data["status"] = "past_due"
    with django_capture_on_commit_callbacks(execute=True):
        response = post_paddle(api_client, notification("subscription.past_due", data), paddle.webhook_secret)
    assert response.json()["outcome"] == "processed"

    account = BillingAccount.objects.get(pk=on_paddle.pk)
    assert account.status == AccountStatus.PAST_DUE and account.past_due_since is not None
    [message] = mail.outbox
    assert message.to == [auth_client.user.email] and "/billing/" in message.body
    assert invoke(auth_client, agent).status_code == 200


def test_after_the_wait_the_tick_asks_paddle_and_applies_a_renewal_it_missed(on_paddle, paddle):
    account = period_ended(on_paddle, hours_ago=7)
    old_end = account.current_period_end
    set_at_paddle(paddle, status="active", start=old_end, end=old_end + timedelta(days=31))

    call_command("billing_tick")

    assert len(asked(paddle)) == 1
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE
    assert (account.current_period_start, account.current_period_end) == (old_end, old_end + timedelta(days=31))
    [row] = AuditEvent.objects.filter(organization=account.organization, actor_label="billing_tick")
    assert row.before["period_end"] == old_end.isoformat()


def test_paddle_saying_past_due_when_asked_makes_the_account_past_due(
    on_paddle, paddle, django_capture_on_commit_callbacks
):
    account = period_ended(on_paddle, hours_ago=7)
    set_at_paddle(paddle, status="past_due", start=account.current_period_start, end=account.current_period_end)

    with django_capture_on_commit_callbacks(execute=True):
        call_command("billing_tick")

    account.refresh_from_db()
    assert account.status == AccountStatus.PAST_DUE and account.past_due_since is not None
    assert AuditEvent.objects.filter(action="subscription.past_due", actor_label="billing_tick").count() == 1
    assert len(mail.outbox) == 1


def test_paddle_not_renewed_yet_changes_nothing_and_is_asked_again_an_hour_later(auth_client, on_paddle, paddle, agent):
    account = period_ended(on_paddle, hours_ago=7)
    set_at_paddle(paddle, status="active", start=account.current_period_start, end=account.current_period_end)

    call_command("billing_tick")
    call_command("billing_tick")

    assert len(asked(paddle)) == 1
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE
    assert not AuditEvent.objects.filter(organization=account.organization).exists()
    assert invoke(auth_client, agent).status_code == 200
    BillingAccount.objects.filter(pk=account.pk).update(provider_event_at=timezone.now() - timedelta(hours=1))
    call_command("billing_tick")
    assert len(asked(paddle)) == 2


def test_a_paddle_failure_when_asked_changes_nothing(on_paddle, paddle):
    period_ended(on_paddle, hours_ago=7)
    del paddle.subscriptions["sub_01"]

    call_command("billing_tick")

    account = BillingAccount.objects.get(pk=on_paddle.pk)
    assert len(asked(paddle)) == 1
    assert account.status == AccountStatus.ACTIVE
    assert not AuditEvent.objects.filter(organization=account.organization).exists()


def test_a_paddle_cancellation_the_customer_asked_for_still_ends_at_period_end(on_paddle, paddle):
    BillingAccount.objects.filter(pk=on_paddle.pk).update(cancel_at_period_end=True)
    period_ended(on_paddle, hours_ago=0.01)

    call_command("billing_tick")

    assert BillingAccount.objects.get(pk=on_paddle.pk).status == AccountStatus.CANCELED
    assert paddle.requests == []
