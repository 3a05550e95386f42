"""A client that hangs up while its call is being decided and reserved (the view's one trip to a thread
before the answer) leaves nothing behind: the reservation is given back once it is made, no provider is
called, and a conversation made for the Responses API is removed again. Through the real HTTP stack."""

import json
import socket
import time

import psycopg
import pytest
from django.db import connection

from agents.models import Conversation
from agents.tests.factories import AgentFactory, LLMProviderFactory
from billing.tests.factories import PlanFactory
from policy.tests.factories import BillingAccountFactory
from prompts.tests.factories import ActivePromptVersionFactory
from tenants.services import create_api_key
from testing.polling import wait_for
from usage.models import PeriodCounter

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def agent(fake_openai):
    provider = LLMProviderFactory(openai=True, base_url=fake_openai.base_url, api_key="sk-upstream", timeout=5.0)
    agent = AgentFactory(slug="starter")
    ActivePromptVersionFactory(agent=agent, provider=provider, template="{input}", model="gpt-4o-mini")
    return agent


@pytest.fixture
def counter(user, agent):
    account = BillingAccountFactory(organization=user.organization, plan=PlanFactory(agents=[agent]))
    return PeriodCounter.objects.create(
        account=account, period_start=account.current_period_start, period_end=account.current_period_end
    )


def _waiting_on_a_lock(locker) -> bool:
    row = locker.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
    ).fetchone()
    return row[0] > 0


@pytest.mark.parametrize(
    ("path", "scheme", "body"),
    [
        ("/api/v1/agents/{id}/invoke", "Api-Key", {"input": "hello"}),
        ("/api/v1/openai/responses", "Bearer", {"model": "starter", "input": "hello", "store": True}),
        (
            "/api/v1/openai/chat/completions",
            "Bearer",
            {"model": "starter", "messages": [{"role": "user", "content": "hi"}]},
        ),
    ],
)
def test_hanging_up_while_the_call_is_reserved_gives_the_reservation_back(
    live_asgi_server, user, agent, counter, fake_openai, path, scheme, body
):
    _, secret = create_api_key(organization=user.organization, name="k", actor=user)
    payload = json.dumps(body).encode()
    request = (
        f"POST {path.format(id=agent.pk)} HTTP/1.1\r\nHost: {live_asgi_server.host}\r\n"
        f"Authorization: {scheme} {secret}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    ).encode()
    with psycopg.connect(**connection.get_connection_params()) as locker:
        # Hold the period counter's row: the request's reservation (its UPDATE) waits for it.
        locker.execute(f"SELECT 1 FROM {PeriodCounter._meta.db_table} WHERE id = %s FOR UPDATE", [counter.pk])
        with psycopg.connect(**connection.get_connection_params(), autocommit=True) as watcher:
            with socket.create_connection((live_asgi_server.host, live_asgi_server.port), timeout=10) as client:
                client.sendall(request + payload)
                wait_for(lambda: _waiting_on_a_lock(watcher))
            time.sleep(0.3)  # the server has seen the hang-up and cancelled the request meanwhile
            locker.commit()  # the reservation is made now, after its client left
            wait_for(lambda: not _waiting_on_a_lock(watcher))

    time.sleep(1.0)  # the reservation, then giving it back, take milliseconds
    counter.refresh_from_db()
    assert (counter.requests, counter.tokens_input, counter.tokens_output) == (0, 0, 0)
    assert not Conversation.objects.exists()
    assert fake_openai.chat_requests == []
