from agents.models import Conversation, MessageRole
from usage.models import Outcome, PeriodCounter, UsageEvent


def test_invoke_with_demo_provider_answers_labelled_demo_output(auth_client, agent, account, invoke_url):
    response = auth_client.post(invoke_url(agent), {"input": "Hello there"}, format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["demo"] is True
    assert body["output"].startswith("[demo]")
    assert body["prompt_version"] == agent.prompt_versions.get().version
    assert set(body["usage"]) == {"tokens_input", "tokens_output", "latency_ms"}
    conversation = Conversation.objects.get(pk=body["conversation_id"])
    assert list(conversation.messages.values_list("role", flat=True)) == [MessageRole.USER, MessageRole.ASSISTANT]
    counter = PeriodCounter.objects.get(account=account)
    assert counter.requests == 1
    assert counter.tokens_input == body["usage"]["tokens_input"]
    assert counter.tokens_output == body["usage"]["tokens_output"]
    event = UsageEvent.objects.get()
    assert event.outcome == Outcome.OK
    assert event.tokens_output == body["usage"]["tokens_output"]
