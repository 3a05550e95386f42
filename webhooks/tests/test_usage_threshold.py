"""usage.threshold is sent when calls take a quota to 80 % and to 100 % (the policy's reservation sees
the crossing), once per period, metric and threshold, however many calls are refused afterwards."""

import json

import pytest

from agents.tests.factories import AgentFactory
from billing.tests.factories import PlanFactory
from policy.tests.factories import BillingAccountFactory

pytestmark = pytest.mark.django_db


def test_calls_through_the_api_send_80_then_100_percent_once_each(org, endpoint_for, receiver, committed):
    agent = AgentFactory(with_prompt=True)
    account = BillingAccountFactory(
        organization=org.organization, plan=PlanFactory(agents=[agent], quota_requests=5, channels=["api", "web"])
    )
    endpoint_for(events=["usage.threshold"])
    statuses = []

    for _ in range(7):
        with committed():
            statuses.append(
                org.api.post(f"/api/v1/agents/{agent.pk}/invoke", {"input": "Hi"}, format="json").status_code
            )

    assert statuses == [200] * 5 + [429] * 2
    events = [json.loads(request.body) for request in receiver.received]
    assert [event["type"] for event in events] == ["usage.threshold"] * 2
    assert [(event["data"]["metric"], event["data"]["percent"]) for event in events] == [
        ("requests", 80),
        ("requests", 100),
    ]
    assert [(event["data"]["used"], event["data"]["limit"]) for event in events] == [(4, 5), (5, 5)]
    assert events[0]["data"]["period_end"] == account.current_period_end.isoformat()
    assert len(receiver.received) == 2
