import factory

from deployments.tests.factories import ContactFactory
from leads.models import Lead


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    contact = factory.SubFactory(ContactFactory)
    organization = factory.LazyAttribute(lambda lead: lead.contact.organization)
    deployment = factory.LazyAttribute(lambda lead: lead.contact.deployment)
    name = factory.Sequence(lambda n: f"Lead {n}")
    phone = "+351 912 345 678"
    need = "A website"
