"""The invoke hot path stays within 6 SQL statements, however big the plan, the policy rules or the
conversation (issue 14).

Transactional tests: the count is what production runs (no test-wrapper savepoints). The first
call of a period creates the counter and loads prices, rules and the key; the pinned number is the
steady state. On PostgreSQL the exchange, the settle and the usage event are one statement.
"""

import pytest
from rest_framework.test import APIClient

from agents.models import Conversation, Message, MessageRole
from agents.tests.factories import AgentFactory
from billing.tests.factories import PlanFactory
from policy.models import PolicyRule, RuleKind
from policy.tests.factories import BillingAccountFactory
from tenants.services import create_api_key

# JWT: the user is read on every call. An API key and its creator come from the per-process memo, which
# reads the keys' version token at most every 0.5 s (on this slow test path, possibly in the measured call).
MAX_QUERIES = {"jwt": 6, "api_key": 6}
ON_SQLITE = 3  # the writes run one by one there: the exchange (two or three), the settle, the event


def _subscribed(user, plan_size: int, rules: int):
    agent = AgentFactory(with_prompt=True)
    others = AgentFactory.create_batch(plan_size - 1, with_prompt=True)
    plan = PlanFactory(agents=[agent, *others])
    BillingAccountFactory(organization=user.organization, plan=plan)
    PolicyRule.objects.bulk_create(
        [PolicyRule(kind=RuleKind.EXTRA_QUOTA, organization=user.organization, extra_requests=1) for _ in range(rules)]
    )
    return agent


def _conversation_with(user, agent, messages: int) -> Conversation:
    conversation = Conversation.objects.create(
        organization=user.organization, user=user, agent=agent, channel="api", title="long"
    )
    Message.objects.bulk_create(
        Message(conversation=conversation, role=(MessageRole.USER, MessageRole.ASSISTANT)[i % 2], content=f"m{i}")
        for i in range(messages)
    )
    return conversation


def _client(auth: str, auth_client, user) -> APIClient:
    if auth == "jwt":
        return auth_client
    client = APIClient()
    secret = create_api_key(organization=user.organization, name="queries", actor=user)[1]
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    return client


def _limit(auth: str) -> int:
    from django.db import connection

    return MAX_QUERIES[auth] + (ON_SQLITE if connection.vendor != "postgresql" else 0)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("auth", ["jwt", "api_key"])
@pytest.mark.parametrize(("plan_size", "rules"), [(1, 0), (200, 50)])
def test_new_conversation_invoke_query_count(auth_client, user, auth, plan_size, rules, django_assert_max_num_queries):
    agent = _subscribed(user, plan_size, rules)
    client = _client(auth, auth_client, user)
    url = f"/api/v1/agents/{agent.pk}/invoke"
    assert client.post(url, {"input": "warm up"}, format="json").status_code == 200

    with django_assert_max_num_queries(_limit(auth)):
        response = client.post(url, {"input": "hello"}, format="json")

    assert response.status_code == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("auth", ["jwt", "api_key"])
@pytest.mark.parametrize(("plan_size", "rules", "history"), [(1, 0, 1), (1, 0, 50), (200, 50, 50)])
def test_continued_conversation_invoke_query_count(
    auth_client, user, auth, plan_size, rules, history, django_assert_max_num_queries
):
    agent = _subscribed(user, plan_size, rules)
    client = _client(auth, auth_client, user)
    conversation = _conversation_with(user, agent, history)
    url = f"/api/v1/agents/{agent.pk}/invoke"
    assert client.post(url, {"input": "warm up"}, format="json").status_code == 200

    with django_assert_max_num_queries(_limit(auth)):
        response = client.post(url, {"input": "more", "conversation_id": conversation.pk}, format="json")

    assert response.status_code == 200
    assert response.json()["conversation_id"] == conversation.pk
    assert conversation.messages.count() == history + 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_hot_statements_are_prepared_once_they_repeat(user, settings):
    """The account read, the agent read, the reservation and the settle are bound by the server and, once
    run DATABASE_PREPARE_THRESHOLD times on a connection, kept parsed and planned there
    (botgeneric/prepared_statements.py); Django still logs and counts them."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from agents.models import Agent
    from billing.models import BillingAccount
    from usage.models import PeriodCounter

    agent = _subscribed(user, plan_size=1, rules=0)
    client = _client("api_key", None, user)
    url = f"/api/v1/agents/{agent.pk}/invoke"
    threshold = settings.DATABASES["default"]["OPTIONS"]["prepare_threshold"]
    for number in range(threshold):
        assert client.post(url, {"input": f"call {number}"}, format="json").status_code == 200

    with CaptureQueriesContext(connection) as captured:
        assert client.post(url, {"input": "prepared"}, format="json").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]

    assert any(
        f'UPDATE "{PeriodCounter._meta.db_table}"' in sql or f"UPDATE {PeriodCounter._meta.db_table}" in sql
        for sql in prepared
    )
    assert any(BillingAccount._meta.db_table in sql and sql.startswith("SELECT") for sql in prepared)
    assert any(Agent._meta.db_table in sql and sql.startswith("SELECT") for sql in prepared)
    assert any(sql.startswith("WITH ") for sql in prepared)
    assert any(PeriodCounter._meta.db_table in query["sql"] for query in captured.captured_queries)
