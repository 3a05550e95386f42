"""The OpenAI-compatible endpoint, driven by the official `openai` SDK over real HTTP (the live ASGI server).

The agent's provider is the fake OpenAI upstream, so the whole chain is real: SDK → our endpoint →
policy → runtime → SDK → fake upstream, and back.
"""

import openai
import pytest
from rest_framework.test import APIClient

from agents.tests.factories import AgentFactory
from policy.tests.factories import PolicyRuleFactory
from tenants.services import create_api_key, revoke_api_key
from usage.models import Outcome, PeriodCounter, UsageEvent

pytestmark = pytest.mark.django_db(transaction=True)


def test_chat_completion_answers_in_openai_shape_and_is_metered(client, upstream_agent, fake_openai, user):
    completion = client.chat.completions.create(
        model="writer",
        messages=[
            {"role": "system", "content": "ignored: the agent has its own system prompt"},
            {"role": "user", "content": "an earlier question"},
            {"role": "assistant", "content": "an earlier answer"},
            {"role": "user", "content": "What is a haiku?"},
        ],
    )

    [sent] = fake_openai.chat_requests
    assert sent["json"]["messages"][-1] == {"role": "user", "content": "Please answer: What is a haiku?"}
    assert completion.object == "chat.completion"
    assert completion.model == "writer"
    assert completion.id.startswith("chatcmpl-")
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content == "echo: Please answer: What is a haiku?"
    assert completion.choices[0].finish_reason == "stop"
    event = UsageEvent.objects.get()
    assert (event.channel, event.outcome, event.organization_id) == ("api", Outcome.OK, user.organization_id)
    assert completion.usage.prompt_tokens == event.tokens_input
    assert completion.usage.completion_tokens == event.tokens_output
    assert completion.usage.total_tokens == event.tokens_input + event.tokens_output
    assert PeriodCounter.objects.get().requests == 1


def test_text_content_parts_are_joined_into_the_input(client, fake_openai):
    client.chat.completions.create(
        model="writer",
        messages=[{"role": "user", "content": [{"type": "text", "text": "part one"}, {"type": "text", "text": "two"}]}],
    )

    assert fake_openai.chat_requests[-1]["json"]["messages"][-1]["content"] == "Please answer: part one\ntwo"


def test_streaming_sends_the_answer_then_done(client):
    stream = client.chat.completions.create(
        model="writer",
        messages=[{"role": "user", "content": "stream it"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)

    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text == "echo: Please answer: stream it"
    assert [chunk.choices[0].finish_reason for chunk in chunks if chunk.choices][-1] == "stop"
    assert (
        chunks[-1].usage.total_tokens == UsageEvent.objects.get().tokens_input + UsageEvent.objects.get().tokens_output
    )


def test_agent_not_in_plan_is_permission_denied(client, fake_openai, user):
    AgentFactory(slug="outsider", with_prompt=True)

    with pytest.raises(openai.PermissionDeniedError) as denied:
        client.chat.completions.create(model="outsider", messages=[{"role": "user", "content": "hi"}])

    assert denied.value.status_code == 403
    assert denied.value.code == "agent_not_in_plan"
    assert denied.value.type == "permission_error"
    assert fake_openai.chat_requests == []
    assert UsageEvent.objects.get().outcome == Outcome.DENIED


def test_quota_exceeded_is_rate_limit_error_that_says_not_to_retry(client, plan, fake_openai):
    plan.quota_requests = 1
    plan.save()
    client.chat.completions.create(model="writer", messages=[{"role": "user", "content": "the only one"}])

    with pytest.raises(openai.RateLimitError) as exceeded:
        client.chat.completions.create(model="writer", messages=[{"role": "user", "content": "one too many"}])

    assert exceeded.value.code == "quota_exceeded"
    assert exceeded.value.body["metric"] == "requests"
    assert exceeded.value.body["limit"] == 1
    assert exceeded.value.response.headers["x-should-retry"] == "false"
    assert len(fake_openai.chat_requests) == 1


def test_rate_limited_is_rate_limit_error_with_retry_after(client, user, same_rate_window):
    PolicyRuleFactory(organization=user.organization, requests_per_minute=1)
    client.chat.completions.create(model="writer", messages=[{"role": "user", "content": "first"}])

    with pytest.raises(openai.RateLimitError) as limited:
        client.chat.completions.create(model="writer", messages=[{"role": "user", "content": "second"}])

    assert limited.value.code == "rate_limited"
    assert 0 < int(limited.value.response.headers["retry-after"]) <= 60


@pytest.mark.parametrize("make_key", ["garbage", "revoked"])
def test_bad_or_revoked_key_is_authentication_error(live_asgi_server, sdk_client, user, api_key, make_key):
    if make_key == "revoked":
        key = user.organization.api_keys.get()
        revoke_api_key(key=key, actor=user)
        secret = api_key
    else:
        secret = "bg_0000_not-a-key"
    with sdk_client(live_asgi_server, secret) as client, pytest.raises(openai.AuthenticationError) as failed:
        client.chat.completions.create(model="writer", messages=[{"role": "user", "content": "hi"}])

    assert failed.value.code == "invalid_api_key"
    assert UsageEvent.objects.count() == 0


def test_unknown_model_is_not_found(client):
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="no-such-agent", messages=[{"role": "user", "content": "hi"}])

    assert missing.value.code == "model_not_found"
    assert missing.value.param == "model"


def test_inactive_agent_is_model_not_found_too(client, upstream_agent):
    upstream_agent.is_active = False
    upstream_agent.save()

    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="writer", messages=[{"role": "user", "content": "hi"}])

    assert missing.value.code == "model_not_found"


@pytest.mark.parametrize(
    ("messages", "param"),
    [
        ([{"role": "system", "content": "no user message"}], "messages"),
        ([{"role": "user", "content": "   "}], "messages"),
        ([{"role": "wizard", "content": "hi"}], "messages[0].role"),
        ([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}], "messages[0].content"),
    ],
)
def test_bad_body_is_bad_request_naming_the_param(client, messages, param, fake_openai):
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model="writer", messages=messages)

    assert bad.value.type == "invalid_request_error"
    assert bad.value.param == param
    assert fake_openai.chat_requests == []


def test_upstream_failure_is_a_server_error_and_not_charged(client, fake_openai):
    fake_openai.mode = "fail_500"

    with pytest.raises(openai.InternalServerError) as failed:
        client.chat.completions.create(model="writer", messages=[{"role": "user", "content": "hi"}])

    assert failed.value.status_code == 502
    assert failed.value.code == "upstream_error"
    assert PeriodCounter.objects.get().requests == 0


def test_no_subscription_is_402(live_asgi_server, sdk_client, user, upstream_agent):
    _, secret = create_api_key(organization=user.organization, name="unsubscribed", actor=user)
    with sdk_client(live_asgi_server, secret) as client, pytest.raises(openai.APIStatusError) as refused:
        client.chat.completions.create(model="writer", messages=[{"role": "user", "content": "hi"}])

    assert refused.value.status_code == 402
    assert refused.value.code == "no_subscription"


def test_models_lists_only_the_agents_the_plan_allows_on_the_api(client, plan):
    included = AgentFactory(slug="also-included", with_prompt=True)
    plan.plan_agents.create(agent=included)
    AgentFactory(slug="not-in-plan", with_prompt=True)
    AgentFactory(slug="retired", is_active=False).plans.add(plan)

    models = client.models.list()

    assert sorted(model.id for model in models) == ["also-included", "writer"]
    assert {model.owned_by for model in models} == {"bot-generic"}
    assert client.models.retrieve("writer").id == "writer"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("not-in-plan")


def test_models_is_empty_when_the_plan_has_no_api_channel(client, plan):
    plan.channels = ["web"]
    plan.save()

    assert list(client.models.list()) == []


def test_api_key_scheme_is_accepted_too(api_key, fake_openai):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key}")

    response = client.post(
        "/api/v1/openai/chat/completions",
        {"model": "writer", "messages": [{"role": "user", "content": "hi"}]},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == "echo: Please answer: hi"


def test_jwt_is_not_accepted_on_the_openai_endpoint(auth_client):
    response = auth_client.get("/api/v1/openai/models")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


def test_malformed_json_is_bad_request(api_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")

    response = client.generic("POST", "/api/v1/openai/chat/completions", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_chat_completion_query_count_is_pinned(api_key, fake_openai, django_assert_max_num_queries):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")
    body = {"model": "writer", "messages": [{"role": "user", "content": "warm up"}]}
    client.post("/api/v1/openai/chat/completions", body, format="json")

    with django_assert_max_num_queries(10):
        response = client.post("/api/v1/openai/chat/completions", body, format="json")

    assert response.status_code == 200


def test_model_entries_carry_the_agents_name_description_and_features(client, upstream_agent):
    upstream_agent.description = "Writes crisp copy."
    upstream_agent.save()
    upstream_agent.prompt_versions.update(locked_parameters=["tools"])

    [listed] = client.models.list().data
    retrieved = client.models.retrieve("writer")

    version = upstream_agent.prompt_versions.get()
    for model in (listed, retrieved):
        extra = model.model_extra
        assert (extra["name"], extra["description"]) == (upstream_agent.name, "Writes crisp copy.")
        assert extra["features"] == {"streaming": True, "tools": False, "json_output": True, "audio": False}
        assert (extra["context_tokens"], extra["max_output_tokens"]) == (version.context_tokens, version.max_tokens)
