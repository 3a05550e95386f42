from datetime import timedelta

import factory
from django.utils import timezone

from billing.models import AccountStatus, BillingAccount, PaymentProvider
from policy.models import PolicyRule, RuleKind
from tenants.tests.factories import OrganizationFactory


class BillingAccountFactory(factory.django.DjangoModelFactory):
    """An organization's account, active in a period that started yesterday and ends in 29 days.

    `BillingAccountFactory(plan=plan, organization=user.organization)`; the billing services own the
    lifecycle, this only gives the policy a state to decide on.
    """

    class Meta:
        model = BillingAccount
        django_get_or_create = ("organization",)

    organization = factory.SubFactory(OrganizationFactory)
    plan = factory.SubFactory("billing.tests.factories.PlanFactory")
    status = AccountStatus.ACTIVE
    current_period_start = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    current_period_end = factory.LazyAttribute(lambda account: account.current_period_start + timedelta(days=30))
    provider = PaymentProvider.MANUAL


class PolicyRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PolicyRule

    kind = RuleKind.RATE_LIMIT
    organization = factory.SubFactory(OrganizationFactory)
    plan = None
    agent = None
    is_active = True
