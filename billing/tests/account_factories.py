"""Factories for billing accounts and payments (plan factories live in factories.py, owned by catalog)."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from billing.models import AccountStatus, BillingAccount, Interval, Payment, PaymentProvider, Plan, PlanPrice
from tenants.tests.factories import OrganizationFactory


def make_plan(code: str = "monthly", *, interval: str = Interval.MONTH, prices=None, trial_days=14, order=0) -> Plan:
    """A plan with its prices, e.g. make_plan("yearly", interval="year", prices={"USD": "199.99"})."""
    plan = Plan.objects.create(
        code=code,
        name=code.title(),
        interval=interval,
        trial_days=trial_days,
        channels=["web", "telegram", "api"],
        display_order=order,
    )
    for currency, amount in (prices if prices is not None else {"USD": "19.99"}).items():
        PlanPrice.objects.create(
            plan=plan, currency=currency, amount=Decimal(amount), provider_ref=f"pri_{code}_{currency}"
        )
    return plan


class BillingAccountFactory(factory.django.DjangoModelFactory):
    """An account in the middle of an active month by default."""

    class Meta:
        model = BillingAccount

    organization = factory.SubFactory(OrganizationFactory)
    status = AccountStatus.ACTIVE
    provider = PaymentProvider.MANUAL
    currency = "USD"
    current_period_start = factory.LazyFunction(lambda: timezone.now() - timedelta(days=10))
    current_period_end = factory.LazyFunction(lambda: timezone.now() + timedelta(days=20))


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    account = factory.SubFactory(BillingAccountFactory)
    provider = PaymentProvider.MANUAL
    external_id = factory.Sequence(lambda n: f"ext-{n}")
    amount = Decimal("19.99")
    currency = "USD"
