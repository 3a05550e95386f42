from decimal import Decimal

import factory

from agents.models import Agent, LLMProvider, ModelPrice, ProviderKind


class AgentFactory(factory.django.DjangoModelFactory):
    """An active catalog agent. `AgentFactory(with_prompt=True)` also gives it an active prompt version."""

    class Meta:
        model = Agent
        skip_postgeneration_save = True

    class Params:
        with_prompt = factory.Trait(
            active_prompt=factory.RelatedFactory(
                "prompts.tests.factories.ActivePromptVersionFactory", factory_related_name="agent"
            )
        )

    slug = factory.Sequence(lambda n: f"agent-{n}")
    name = factory.Sequence(lambda n: f"Agent {n}")
    description = "Answers questions."
    is_active = True


class LLMProviderFactory(factory.django.DjangoModelFactory):
    """A provider; the default kind is the offline demo one.

    `LLMProviderFactory(openai=True, base_url=fake.url, api_key="sk-test")` gives an
    OpenAI-compatible provider with an encrypted key.
    """

    class Meta:
        model = LLMProvider
        skip_postgeneration_save = True

    class Params:
        openai = factory.Trait(kind=ProviderKind.OPENAI, base_url="http://127.0.0.1:9/v1")

    name = factory.Sequence(lambda n: f"provider-{n}")
    kind = ProviderKind.DEMO
    base_url = ""
    timeout = 5.0
    max_retries = 0
    is_default = False

    @factory.post_generation
    def api_key(obj, create, extracted, **kwargs):
        if create and extracted:
            from agents.provider_keys import set_api_key

            set_api_key(obj, extracted)


class ModelPriceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModelPrice
        django_get_or_create = ("model",)

    model = factory.Sequence(lambda n: f"model-{n}")
    input_per_1m = Decimal("0.150000")
    output_per_1m = Decimal("0.600000")
