"""The caller's own conversations only: another user's or organization's id answers 404."""

import pytest
from django.utils.dateparse import parse_datetime

from accounts.tests.factories import UserFactory
from agents.models import Conversation
from agents.tests.factories import AgentFactory
from policy.tests.factories import BillingAccountFactory
from tenants.models import Role


def _invoke(client, agent, **body):
    return client.post(f"/api/v1/agents/{agent.pk}/invoke", body, format="json")


@pytest.fixture
def conversation_id(auth_client, agent, account):
    return _invoke(auth_client, agent, input="my question").json()["conversation_id"]


def test_lists_own_conversations_newest_activity_first_paginated(auth_client, agent, account):
    first = _invoke(auth_client, agent, input="first").json()["conversation_id"]
    second = _invoke(auth_client, agent, input="second").json()["conversation_id"]
    _invoke(auth_client, agent, input="again", conversation_id=first)

    body = auth_client.get("/api/v1/conversations?limit=1").json()

    assert body["count"] == 2
    assert [row["id"] for row in body["results"]] == [first]
    assert body["results"][0]["agent"]["slug"] == agent.slug
    assert body["next"]
    assert second in [row["id"] for row in auth_client.get(body["next"]).json()["results"]]


def test_every_exchange_moves_the_conversations_updated_at_to_its_messages(auth_client, agent, account):
    first = _invoke(auth_client, agent, input="first").json()["conversation_id"]
    second = _invoke(auth_client, agent, input="second").json()["conversation_id"]
    _invoke(auth_client, agent, input="again", conversation_id=first)

    conversation = Conversation.objects.get(pk=first)
    newest = conversation.messages.order_by("-id").first()
    rows = auth_client.get("/api/v1/conversations").json()["results"]

    assert conversation.updated_at == newest.created_at
    assert conversation.updated_at > Conversation.objects.get(pk=second).updated_at
    assert [row["id"] for row in rows] == [first, second]
    assert parse_datetime(rows[0]["last_message_at"]) == newest.created_at


def test_reads_own_conversation_with_messages(auth_client, conversation_id):
    body = auth_client.get(f"/api/v1/conversations/{conversation_id}").json()

    assert [m["role"] for m in body["messages"]] == ["user", "assistant"]
    assert body["messages"][0]["content"] == "my question"


def test_a_colleagues_conversation_is_404_and_not_listed(api_client, user, conversation_id):
    colleague = UserFactory(organization=user.organization, role=Role.ADMIN)
    api_client.force_authenticate(colleague)

    assert api_client.get(f"/api/v1/conversations/{conversation_id}").status_code == 404
    assert api_client.get("/api/v1/conversations").json()["count"] == 0


def test_another_tenants_conversation_is_404_to_read_and_to_continue(api_client, agent, plan, conversation_id):
    stranger = UserFactory()
    BillingAccountFactory(organization=stranger.organization, plan=plan)
    api_client.force_authenticate(stranger)

    assert api_client.get(f"/api/v1/conversations/{conversation_id}").status_code == 404
    response = _invoke(api_client, agent, input="hijack", conversation_id=conversation_id)
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert Conversation.objects.get(pk=conversation_id).messages.count() == 2


def test_continuing_a_conversation_with_another_agent_is_400(auth_client, user, account, conversation_id):
    other = AgentFactory(with_prompt=True)
    account.plan.plan_agents.create(agent=other)

    response = _invoke(auth_client, other, input="switch", conversation_id=conversation_id)

    assert response.status_code == 400
    assert "conversation_id" in response.json()["fields"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"input": ""},
        {"input": "   "},
        {"input": "x" * 20_001},
        {"input": "hi", "variables": {"not a name": "x"}},
        {"input": "hi", "variables": {"topic": {"nested": 1}}},
        {"input": "hi", "variables": {f"v{i}": "x" for i in range(21)}},
        {"input": "hi", "conversation_id": "abc"},
    ],
)
def test_bad_input_is_400_with_fields_and_charges_nothing(auth_client, agent, account, body):
    response = _invoke(auth_client, agent, **body)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["fields"]
