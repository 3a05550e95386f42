from decimal import Decimal

import factory
from django.db.models import Max
from django.utils import timezone

from agents.tests.factories import AgentFactory
from prompts.models import PromptVersion, Status


def _next_version(obj) -> int:
    current = PromptVersion.objects.filter(agent=obj.agent).aggregate(last=Max("version"))["last"]
    return (current or 0) + 1


class PromptVersionFactory(factory.django.DjangoModelFactory):
    """A draft version (the next number for its agent). Use ActivePromptVersionFactory for a live one."""

    class Meta:
        model = PromptVersion

    agent = factory.SubFactory(AgentFactory)
    version = factory.LazyAttribute(_next_version)
    status = Status.DRAFT
    system_prompt = "You are a concise assistant. Reply in the user's language."
    template = "{input}"
    model = "gpt-4o-mini"
    provider = None
    temperature = Decimal("0.70")
    max_tokens = 256
    note = ""


class ActivePromptVersionFactory(PromptVersionFactory):
    status = Status.ACTIVE
    activated_at = factory.LazyFunction(timezone.now)
