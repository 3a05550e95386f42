"""Issue 19: an operator sends a message to a draft prompt version from its admin page and sees the answer,
tokens and cost; the call is metered to the operator (console channel, no organization), never to a customer."""

from decimal import Decimal

import pytest

from accounts.tests.factories import UserFactory
from agents.tests.factories import AgentFactory, LLMProviderFactory, ModelPriceFactory
from billing.tests.account_factories import BillingAccountFactory
from billing.tests.factories import PlanFactory
from prompts.tests.factories import ActivePromptVersionFactory, PromptVersionFactory
from usage.models import PeriodCounter, UsageEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):
    """A staff operator who is also a member of a customer organization with a plan: still, the
    playground must not count against that organization."""
    user = UserFactory(is_staff=True, is_superuser=True)
    BillingAccountFactory(organization=user.organization, plan=PlanFactory(quota_requests=10))
    client.force_login(user)
    client.user = user
    return client


def _try(console, version, message):
    return console.post(f"/admin/prompts/promptversion/{version.pk}/playground/", {"message": message})


def test_a_draft_answers_on_its_provider_with_tokens_and_cost(operator, fake_openai):
    provider = LLMProviderFactory(openai=True, base_url=fake_openai.base_url, api_key="sk-test")
    ModelPriceFactory(model="gpt-play", input_per_1m=Decimal("1000"), output_per_1m=Decimal("2000"))
    agent = AgentFactory(with_prompt=True)  # its live version stays what customers get
    draft = PromptVersionFactory(agent=agent, provider=provider, model="gpt-play", template="Q: {input}")

    response = _try(operator, draft, "hello draft")
    page = operator.get(response["Location"]).content.decode()

    assert response.status_code == 302 and response["Location"].endswith(f"/{draft.pk}/change/#playground")
    event = UsageEvent.objects.get()
    assert (event.channel, event.user_id, event.organization_id) == ("console", operator.user.pk, None)
    assert event.prompt_version_id == draft.pk and event.model == "gpt-play" and event.outcome == "ok"
    assert event.tokens_input > 0 and event.tokens_output > 0 and event.cost_usd > 0
    assert "echo: Q: hello draft" in page
    assert f"Tokens: {event.tokens_input} in, {event.tokens_output} out" in page
    assert not PeriodCounter.objects.exists()


def test_the_draft_on_the_demo_provider_says_demo(operator):
    draft = PromptVersionFactory()

    page = operator.get(_try(operator, draft, "hi")["Location"]).content.decode()

    assert 'id="playground-answer"' in page and "demo output" in page
    assert UsageEvent.objects.get().organization_id is None


def test_the_answer_is_shown_once(operator):
    draft = PromptVersionFactory()
    _try(operator, draft, "hi")

    operator.get(f"/admin/prompts/promptversion/{draft.pk}/change/")
    again = operator.get(f"/admin/prompts/promptversion/{draft.pk}/change/").content.decode()

    assert 'id="playground"' in again and 'id="playground-answer"' not in again


def test_an_upstream_failure_is_said_and_metered_without_charge(operator, fake_openai):
    provider = LLMProviderFactory(openai=True, base_url=fake_openai.base_url, api_key="sk-test")
    draft = PromptVersionFactory(provider=provider)

    page = operator.get(_try(operator, draft, "FAIL_500")["Location"]).content.decode()

    assert "The draft could not answer" in page
    event = UsageEvent.objects.get()
    assert (event.outcome, event.cost_usd, event.organization_id) == ("error", 0, None)


def test_a_published_version_has_no_playground(operator):
    active = ActivePromptVersionFactory()

    page = operator.get(f"/admin/prompts/promptversion/{active.pk}/change/").content.decode()

    assert 'id="playground"' not in page
    assert _try(operator, active, "hi").status_code == 403
    assert not UsageEvent.objects.exists()


def test_an_empty_message_is_refused_in_words(operator):
    draft = PromptVersionFactory()

    page = operator.get(_try(operator, draft, "")["Location"]).content.decode()

    assert "Write a message to send to the draft." in page and not UsageEvent.objects.exists()


def test_no_plan_can_offer_the_console_channel():
    from billing.admin import PlanForm

    offered = [value for value, _label in PlanForm().fields["channels"].choices]

    assert "console" not in offered and "web" in offered
