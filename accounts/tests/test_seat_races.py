"""Seats under concurrency (real PostgreSQL): invitations racing for the last seats never outrun the plan,
because each one asks the policy while it holds the organization's row lock."""

import pytest

from accounts.membership import invite_member
from accounts.tests.factories import UserFactory
from billing.tests.account_factories import BillingAccountFactory
from billing.tests.factories import PlanFactory
from billing.tests.test_concurrency import run_in_threads
from botgeneric.errors import DomainError
from tenants.models import Invitation, Role

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_ten_invitations_at_once_take_only_the_seats_left():
    owner = UserFactory(role=Role.OWNER)
    BillingAccountFactory(organization=owner.organization, plan=PlanFactory(max_members=3))
    emails = iter([f"racer{number}@example.com" for number in range(10)])

    def invite():
        try:
            invite_member(actor=owner, email=next(emails), role=Role.MEMBER)
        except DomainError as refusal:
            return refusal.code.value
        return "invited"

    outcomes = run_in_threads(10, invite)

    assert sorted(outcomes) == ["invited"] * 2 + ["seats_exhausted"] * 8
    assert Invitation.objects.filter(organization=owner.organization).count() == 2
