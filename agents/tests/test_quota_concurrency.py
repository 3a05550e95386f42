"""Exact quotas under concurrency: real threads through the HTTP stack on PostgreSQL."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import UserFactory
from agents.tests.factories import AgentFactory
from billing.tests.factories import PlanFactory
from policy.tests.factories import BillingAccountFactory
from usage.models import Outcome, PeriodCounter, UsageEvent

CALLS = 50
QUOTA = 10


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_invokes_against_a_quota_of_ten_allow_exactly_ten(live_asgi_server):
    user = UserFactory()
    agent = AgentFactory(with_prompt=True)
    account = BillingAccountFactory(
        organization=user.organization, plan=PlanFactory(agents=[agent], quota_requests=QUOTA)
    )
    headers = {"Authorization": f"Bearer {RefreshToken.for_user(user).access_token}"}
    url = f"{live_asgi_server.url}/api/v1/agents/{agent.pk}/invoke"

    def call(number):
        with requests.Session() as session:
            return session.post(url, json={"input": f"call {number}"}, headers=headers, timeout=60)

    with ThreadPoolExecutor(max_workers=CALLS) as pool:
        responses = list(pool.map(call, range(CALLS)))

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * QUOTA + [429] * (CALLS - QUOTA)
    assert {response.json()["code"] for response in responses if response.status_code == 429} == {"quota_exceeded"}
    assert PeriodCounter.objects.get(account=account).requests == QUOTA
    assert UsageEvent.objects.filter(outcome=Outcome.OK).count() == QUOTA
    assert UsageEvent.objects.filter(outcome=Outcome.DENIED, error_code="quota_exceeded").count() == CALLS - QUOTA
