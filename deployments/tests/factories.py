import secrets

import factory

from deployments.models import Contact, Deployment, DeploymentChannel


class DeploymentFactory(factory.django.DjangoModelFactory):
    """A widget deployment by default; `DeploymentFactory(telegram=True)` is a bot (with no token)."""

    class Meta:
        model = Deployment

    class Params:
        telegram = factory.Trait(
            channel=DeploymentChannel.TELEGRAM,
            allowed_origins=[],
            webhook_secret=factory.LazyFunction(lambda: secrets.token_urlsafe(16)),
        )

    organization = factory.SubFactory("tenants.tests.factories.OrganizationFactory")
    agent = factory.SubFactory("agents.tests.factories.AgentFactory", with_prompt=True)
    channel = DeploymentChannel.WIDGET
    public_key = factory.LazyFunction(lambda: "pub_" + secrets.token_urlsafe(12))
    allowed_origins = factory.LazyFunction(lambda: ["https://shop.example.com"])


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    organization = factory.LazyAttribute(lambda contact: contact.deployment.organization)
    deployment = factory.SubFactory(DeploymentFactory)
    channel = factory.LazyAttribute(lambda contact: contact.deployment.channel)
    external_id = factory.Sequence(lambda n: f"visitor-{n}")
    name = factory.Sequence(lambda n: f"Client {n}")
