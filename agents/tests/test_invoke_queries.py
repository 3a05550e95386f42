"""The invoke hot path stays within 8 SQL queries, however big the plan or the conversation.

Transactional tests: the count is what production runs (no test-wrapper savepoints). The first
call of a period creates the counter and loads prices; the pinned number is the steady state.
"""

import pytest

from agents.models import Conversation, Message, MessageRole
from agents.tests.factories import AgentFactory
from billing.tests.factories import PlanFactory
from policy.tests.factories import BillingAccountFactory

MAX_QUERIES = 8


def _subscribed(user, plan_size: int):
    agent = AgentFactory(with_prompt=True)
    others = AgentFactory.create_batch(plan_size - 1, with_prompt=True)
    BillingAccountFactory(organization=user.organization, plan=PlanFactory(agents=[agent, *others]))
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


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("plan_size", [1, 200])
def test_new_conversation_invoke_query_count(auth_client, user, plan_size, django_assert_max_num_queries):
    agent = _subscribed(user, plan_size)
    url = f"/api/v1/agents/{agent.pk}/invoke"
    assert auth_client.post(url, {"input": "warm up"}, format="json").status_code == 200

    with django_assert_max_num_queries(MAX_QUERIES):
        response = auth_client.post(url, {"input": "hello"}, format="json")

    assert response.status_code == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("plan_size", "history"), [(1, 1), (1, 50), (200, 50)])
def test_continued_conversation_invoke_query_count(
    auth_client, user, plan_size, history, django_assert_max_num_queries
):
    agent = _subscribed(user, plan_size)
    conversation = _conversation_with(user, agent, history)
    url = f"/api/v1/agents/{agent.pk}/invoke"
    assert auth_client.post(url, {"input": "warm up"}, format="json").status_code == 200

    with django_assert_max_num_queries(MAX_QUERIES):
        response = auth_client.post(url, {"input": "more", "conversation_id": conversation.pk}, format="json")

    assert response.status_code == 200
    assert response.json()["conversation_id"] == conversation.pk
    assert conversation.messages.count() == history + 2
