"""Issue 16 item 2: two app servers on one PostgreSQL and one Redis behave as one.

Two gunicorn processes (ASGI workers, as production serves) share the test database and the Redis of
REDIS_URL. Requests are split across them and sent at once; what they decide together must be what
one server would decide. (policy/tests/test_rules_across_processes.py shows a rule reaching the other
server without Redis too.)
"""

import json
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import requests
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from accounts.tests.factories import UserFactory
from agents.tests.factories import AgentFactory
from billing.models import AccountStatus, BillingAccount, Payment, PaymentStatus, WebhookEvent
from billing.tests.account_factories import BillingAccountFactory, make_plan
from billing.tests.factories import PlanFactory
from billing.tests.paddle_signing import notification, paddle_signature
from channels_tg.tests.conftest import BOT_TOKEN, WEBHOOK_SECRET, TelegramUser
from policy.models import PolicyRule, RuleKind
from policy.tests.test_rules_across_processes import save_deny_rule_in_admin
from tenants.models import AuditEvent
from testing.app_servers import start_app_servers, stop_app_servers
from testing.fakes.paddle_api import paddle_price
from testing.fakes.telegram_api import FakeTelegramAPI
from usage.models import PeriodCounter, UsageEvent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.app_servers]

PADDLE_SECRET = "pdl_ntfset_two_servers_secret_0123456789"


@pytest.fixture(scope="module")
def fake_telegram_api():
    server = FakeTelegramAPI(token=BOT_TOKEN).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def servers(django_db_setup, django_db_blocker, fake_telegram_api):
    """Two app servers for the whole module (starting one takes seconds): one database, one Redis."""
    if not os.environ.get("REDIS_URL"):
        pytest.skip("REDIS_URL is not set: the servers share their cache through it")
    with django_db_blocker.unblock():
        started = start_app_servers(
            2,
            {
                "REDIS_URL": os.environ["REDIS_URL"],
                # A small pool per server: 50 requests at once wait for a connection, not for PostgreSQL.
                "DATABASE_POOL_MAX_SIZE": "5",
                "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
                "TELEGRAM_API_SERVER": fake_telegram_api.base_url,
                "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "PADDLE_API_KEY": "pdl_sdbx_apikey_two_servers",
                "PADDLE_WEBHOOK_SECRET": PADDLE_SECRET,
            },
        )
    yield [url for _, url in started]
    stop_app_servers(started)


def at_once(calls) -> list:
    """Run the calls from as many threads, released together."""
    start = threading.Barrier(len(calls))

    def run(call):
        start.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_fifty_invokes_split_across_two_servers_on_a_quota_of_ten_allow_exactly_ten(servers):
    customer = UserFactory()
    agent = AgentFactory(with_prompt=True)
    BillingAccountFactory(organization=customer.organization, plan=PlanFactory(agents=[agent], quota_requests=10))
    headers = {"Authorization": f"Bearer {RefreshToken.for_user(customer).access_token}"}

    def invoke(server):
        return lambda: requests.post(
            f"{server}/api/v1/agents/{agent.pk}/invoke", json={"input": "hello"}, headers=headers, timeout=60
        )

    responses = at_once([invoke(servers[n % 2]) for n in range(50)])

    statuses = [response.status_code for response in responses]
    assert statuses.count(200) == 10, statuses
    assert statuses.count(429) == 40, statuses
    assert {response.json()["code"] for response in responses if response.status_code == 429} == {"quota_exceeded"}
    assert PeriodCounter.objects.get(account__organization=customer.organization).requests == 10
    assert UsageEvent.objects.filter(organization=customer.organization, outcome="ok").count() == 10


def test_a_deny_rule_saved_through_one_server_is_enforced_by_the_other_within_a_second(servers):
    saving_server, other_server = servers
    operator = UserFactory(is_staff=True, is_superuser=True)
    customer = UserFactory()
    agent = AgentFactory(with_prompt=True)
    BillingAccountFactory(organization=customer.organization, plan=PlanFactory(agents=[agent], quota_requests=1000))
    headers = {"Authorization": f"Bearer {RefreshToken.for_user(customer).access_token}"}

    def invoke(server: str) -> int:
        url = f"{server}/api/v1/agents/{agent.pk}/invoke"
        return requests.post(url, json={"input": "hello"}, headers=headers, timeout=60).status_code

    assert [invoke(saving_server), invoke(other_server)] == [200, 200]  # both hold the rules in memory

    save_deny_rule_in_admin(saving_server, operator, customer.organization, agent)
    saved_at = time.monotonic()
    assert PolicyRule.objects.filter(kind=RuleKind.DENY_AGENT, agent=agent).exists()

    statuses = [invoke(other_server)]
    while statuses[-1] != 403 and time.monotonic() - saved_at < 1.0:
        statuses.append(invoke(other_server))

    assert statuses[-1] == 403, statuses
    assert time.monotonic() - saved_at < 1.5


def test_one_telegram_update_delivered_to_both_servers_is_handled_once(servers, fake_telegram_api):
    make_plan("monthly")
    stranger = TelegramUser(telegram_id=7_100_000 + uuid.uuid4().int % 100_000)
    update = stranger.text("/start")
    fake_telegram_api.clear()

    def deliver(server):
        return lambda: requests.post(
            f"{server}/telegram/webhook/",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
            timeout=60,
        )

    responses = at_once([deliver(server) for server in servers])

    assert [response.status_code for response in responses] == [200, 200]
    assert User.objects.filter(telegram_id=stranger.telegram_id).count() == 1
    greetings = [
        call for call in fake_telegram_api.calls_of("sendMessage") if int(call.params["chat_id"]) == stranger.chat_id
    ]
    assert len(greetings) == 1, greetings


def _transaction_completed(account: BillingAccount, price) -> dict:
    """Paddle's transaction.completed for a first payment of `price` by the account's organization."""
    start = datetime.now(UTC).replace(microsecond=0)
    minor = str(int(price.amount * 100))
    data = {
        "id": f"txn_{uuid.uuid4().hex[:26]}",
        "status": "completed",
        "customer_id": "ctm_two_servers",
        "subscription_id": f"sub_{uuid.uuid4().hex[:20]}",
        "currency_code": price.currency,
        "custom_data": {"organization_id": str(account.organization_id), "plan": price.plan.code},
        "items": [{"price": paddle_price(price.provider_ref, minor, price.currency), "quantity": 1}],
        "billing_period": {
            "starts_at": start.isoformat().replace("+00:00", "Z"),
            "ends_at": (start + timedelta(days=30)).isoformat().replace("+00:00", "Z"),
        },
    }
    return notification("transaction.completed", data)


def test_a_payment_webhook_delivered_to_both_servers_is_applied_once(servers):
    yearly = make_plan("yearly", interval="year", prices={"USD": "199.99"})
    account = BillingAccountFactory(plan=make_plan("monthly"), status=AccountStatus.TRIALING)
    payload = _transaction_completed(account, yearly.prices.get())
    body = json.dumps(payload).encode()

    def deliver(server):
        # Paddle signs each delivery afresh; the event id is what makes it the same event.
        return lambda: requests.post(
            f"{server}/api/v1/billing/webhooks/paddle",
            data=body,
            headers={"Content-Type": "application/json", "Paddle-Signature": paddle_signature(body, PADDLE_SECRET)},
            timeout=60,
        )

    responses = at_once([deliver(server) for server in servers])

    assert [response.status_code for response in responses] == [200, 200], [r.text for r in responses]
    [event] = WebhookEvent.objects.filter(event_id=payload["event_id"])
    assert (event.outcome, event.attempts) == ("processed", 1)
    [payment] = Payment.objects.filter(account=account)
    assert (payment.status, payment.plan_id) == (PaymentStatus.SUCCEEDED, yearly.pk)
    assert payment.amount == yearly.prices.get().amount
    account.refresh_from_db()
    assert (account.status, account.plan_id) == (AccountStatus.ACTIVE, yearly.pk)
    activations = AuditEvent.objects.filter(organization=account.organization, action="subscription.activated")
    assert activations.count() == 1
