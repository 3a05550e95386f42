"""The members tests' organization: on a plan with three seats, with an owner, an admin and a member."""

import pytest

from accounts.tests.factories import UserFactory
from accounts.tests.members_helpers import client_for
from billing.tests.account_factories import BillingAccountFactory
from billing.tests.factories import PlanFactory
from tenants.models import Role


@pytest.fixture
def team_plan(db):
    return PlanFactory(code="team", name="Team", max_members=3)


@pytest.fixture
def owner(team_plan):
    owner = UserFactory(email="owner@example.com", role=Role.OWNER, locale="en")
    BillingAccountFactory(organization=owner.organization, plan=team_plan)
    return owner


@pytest.fixture
def admin(owner):
    return UserFactory(email="admin@example.com", organization=owner.organization, role=Role.ADMIN)


@pytest.fixture
def member(owner):
    return UserFactory(email="member@example.com", organization=owner.organization, role=Role.MEMBER)


@pytest.fixture
def as_owner(owner):
    return client_for(owner)


@pytest.fixture
def as_admin(admin):
    return client_for(admin)


@pytest.fixture
def as_member(member):
    return client_for(member)
