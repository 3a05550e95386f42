from decimal import Decimal

import factory

from billing.models import Interval, Plan, PlanAgent, PlanPrice
from botgeneric.channels import Channel


class PlanFactory(factory.django.DjangoModelFactory):
    """An active monthly plan with a USD price.

    `PlanFactory(agents=[agent])` includes agents; `PlanFactory(usd_price=None)` skips the price;
    `PlanFactory(usd_price__amount=Decimal("5"))` sets it.
    """

    class Meta:
        model = Plan
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"plan-{n}")
    name = factory.Sequence(lambda n: f"Plan {n}")
    name_ru = factory.Sequence(lambda n: f"Тариф {n}")
    interval = Interval.MONTH
    trial_days = 0
    quota_requests = 1000
    quota_tokens_input = None
    quota_tokens_output = None
    channels = factory.LazyFunction(lambda: [Channel.WEB.value, Channel.TELEGRAM.value, Channel.API.value])
    features = factory.LazyFunction(list)
    is_active = True
    display_order = factory.Sequence(lambda n: n)
    usd_price = factory.RelatedFactory("billing.tests.factories.PlanPriceFactory", factory_related_name="plan")

    @factory.post_generation
    def agents(obj, create, extracted, **kwargs):
        if create and extracted:
            PlanAgent.objects.bulk_create([PlanAgent(plan=obj, agent=agent) for agent in extracted])


class PlanPriceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlanPrice

    plan = factory.SubFactory(PlanFactory, usd_price=None)
    currency = "USD"
    amount = Decimal("19.99")
    provider_ref = ""


class PlanAgentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlanAgent

    plan = factory.SubFactory(PlanFactory)
    agent = factory.SubFactory("agents.tests.factories.AgentFactory")
