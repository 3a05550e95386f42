"""The runtime against the fake OpenAI upstream: real HTTP, the real openai SDK."""

from decimal import Decimal

import openai
import pytest

from agents.models import Message, MessageRole
from agents.tests.factories import AgentFactory, ModelPriceFactory
from prompts.tests.factories import ActivePromptVersionFactory
from usage.models import Outcome, PeriodCounter, UsageEvent


@pytest.fixture
def templated_agent(plan):
    agent = AgentFactory()
    ActivePromptVersionFactory(
        agent=agent,
        system_prompt="You write haiku about {topic}, literally.",
        template="Topic: {topic}\nRequest: {input}",
        model="fake-gpt",
        max_tokens=64,
    )
    plan.plan_agents.create(agent=agent)
    return agent


def _invoke(client, agent, **body):
    return client.post(f"/api/v1/agents/{agent.pk}/invoke", body, format="json")


def test_runtime_sends_system_prompt_rendered_template_and_model_settings(
    auth_client, templated_agent, account, upstream_provider, fake_openai
):
    response = _invoke(auth_client, templated_agent, input="make it short", variables={"topic": "rain"})

    assert response.status_code == 200, response.json()
    assert "demo" not in response.json()
    sent = fake_openai.chat_requests[-1]
    assert sent["headers"]["Authorization"] == "Bearer sk-test-upstream"
    assert sent["json"]["model"] == "fake-gpt"
    assert sent["json"]["max_tokens"] == 64
    assert sent["json"]["messages"] == [
        {"role": "system", "content": "You write haiku about {topic}, literally."},
        {"role": "user", "content": "Topic: rain\nRequest: make it short"},
    ]
    assert response.json()["output"] == "echo: Topic: rain\nRequest: make it short"


def test_follow_up_sends_the_last_n_history_messages(
    auth_client, agent, account, upstream_provider, fake_openai, settings
):
    settings.CONVERSATION_HISTORY_MESSAGES = 3
    first = _invoke(auth_client, agent, input="first question").json()
    second = _invoke(auth_client, agent, input="second question", conversation_id=first["conversation_id"]).json()
    assert second["conversation_id"] == first["conversation_id"]

    _invoke(auth_client, agent, input="third question", conversation_id=first["conversation_id"])

    messages = fake_openai.chat_requests[-1]["json"]["messages"]
    assert [m["role"] for m in messages] == ["system", "assistant", "user", "assistant", "user"]
    assert messages[2]["content"] == "second question"
    assert messages[-1]["content"] == "third question"


def test_success_settles_the_counter_with_the_providers_token_counts(
    auth_client, agent, account, upstream_provider, fake_openai
):
    ModelPriceFactory(model=agent.prompt_versions.get().model, input_per_1m=Decimal("1"), output_per_1m=Decimal("2"))

    body = _invoke(auth_client, agent, input="count me " * 50).json()

    counter = PeriodCounter.objects.get(account=account)
    assert (counter.requests, counter.tokens_input, counter.tokens_output) == (
        1,
        body["usage"]["tokens_input"],
        body["usage"]["tokens_output"],
    )
    event = UsageEvent.objects.get()
    assert (event.outcome, event.model) == (Outcome.OK, agent.prompt_versions.get().model)
    expected = (Decimal(body["usage"]["tokens_input"]) * 1 + Decimal(body["usage"]["tokens_output"]) * 2) / 1_000_000
    assert event.cost_usd == expected
    assert event.prompt_version_id == agent.prompt_versions.get().pk
    user_message, answer = Message.objects.order_by("id")
    assert (user_message.role, user_message.tokens_input) == (MessageRole.USER, body["usage"]["tokens_input"])
    assert (answer.role, answer.tokens_output) == (MessageRole.ASSISTANT, body["usage"]["tokens_output"])


@pytest.mark.parametrize(
    ("magic", "status", "code"),
    [
        ("FAIL_500", 502, "upstream_error"),
        ("FAIL_MALFORMED", 502, "upstream_error"),
        ("FAIL_EMPTY", 502, "upstream_error"),
        ("FAIL_TIMEOUT", 504, "upstream_timeout"),
    ],
)
def test_upstream_failure_is_metered_and_charges_nothing(
    auth_client, agent, account, upstream_provider, fake_openai, magic, status, code
):
    upstream_provider.timeout = 0.5
    upstream_provider.save(update_fields=["timeout"])

    response = _invoke(auth_client, agent, input=f"please {magic}")

    assert response.status_code == status, response.json()
    assert response.json()["code"] == code
    counter = PeriodCounter.objects.get(account=account)
    assert (counter.requests, counter.tokens_input, counter.tokens_output) == (0, 0, 0)
    event = UsageEvent.objects.get()
    assert (event.outcome, event.error_code, event.cost_usd) == (Outcome.ERROR, code, 0)
    assert not Message.objects.exists()


def test_unreachable_upstream_is_502_and_charges_nothing(auth_client, agent, account, upstream_provider):
    upstream_provider.base_url = "http://127.0.0.1:9/v1"
    upstream_provider.save(update_fields=["base_url"])

    response = _invoke(auth_client, agent, input="anyone there?")

    assert (response.status_code, response.json()["code"]) == (502, "upstream_error")
    assert PeriodCounter.objects.get(account=account).requests == 0


def test_failure_in_a_continued_conversation_keeps_its_history_and_charges_nothing(
    auth_client, agent, account, upstream_provider, fake_openai
):
    first = _invoke(auth_client, agent, input="hello").json()

    response = _invoke(auth_client, agent, input="FAIL_500 now", conversation_id=first["conversation_id"])

    assert response.status_code == 502
    assert Message.objects.count() == 2
    assert PeriodCounter.objects.get(account=account).requests == 1


def test_missing_template_variable_is_400_and_charges_nothing(auth_client, templated_agent, account):
    response = _invoke(auth_client, templated_agent, input="no topic given")

    assert response.status_code == 400
    assert (response.json()["code"], response.json()["variable"]) == ("missing_variable", "topic")
    assert not PeriodCounter.objects.filter(account=account, requests__gt=0).exists()
    assert UsageEvent.objects.get().error_code == "missing_variable"


def test_long_answers_are_stored_whole(auth_client, agent, account, upstream_provider, fake_openai):
    body = _invoke(auth_client, agent, input="REPLY_CHARS=1000 tell me everything").json()

    assert len(body["output"]) == 1000
    assert Message.objects.get(role=MessageRole.ASSISTANT).content == body["output"]


def test_fake_upstream_speaks_models_and_transcriptions_to_the_sdk(fake_openai):
    client = openai.OpenAI(base_url=fake_openai.base_url, api_key="sk-test", max_retries=0)

    assert "gpt-4o-mini" in [model.id for model in client.models.list()]
    transcript = client.audio.transcriptions.create(model="whisper-1", file=("voice.ogg", b"\x00" * 321, "audio/ogg"))
    assert transcript.text == "transcript of 321 bytes"
