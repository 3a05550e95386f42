"""Operators change a person's role, organization and staff rights in the console; each change is audited."""

import pytest

from accounts.tests.factories import UserFactory
from tenants.models import AuditEvent, Role
from tenants.tests.factories import OrganizationFactory
from testing.admin_forms import admin_form_data

pytestmark = pytest.mark.django_db

USERS = "/admin/accounts/user/"


@pytest.fixture
def operator():
    return UserFactory(email="operator@example.com", is_staff=True, is_superuser=True, organization=None)


@pytest.fixture
def console(client, operator):
    client.force_login(operator)
    return client


def _user_form(console, user):
    return admin_form_data(console.get(f"{USERS}{user.pk}/change/").content.decode(), "user_form")


def test_a_role_change_in_the_console_leaves_an_audit_row(console, operator):
    member = UserFactory(role=Role.MEMBER)
    data = _user_form(console, member)
    data["role"] = Role.ADMIN

    assert console.post(f"{USERS}{member.pk}/change/", data).status_code == 302

    member.refresh_from_db()
    assert member.role == Role.ADMIN
    event = AuditEvent.objects.get(action="member.role_changed")
    assert (event.actor, event.organization, event.target_id) == (operator, member.organization, str(member.pk))
    assert (event.before, event.after) == ({"role": "member"}, {"role": "admin"})


def test_moving_a_person_to_another_organization_and_making_them_staff_is_audited(console, operator):
    member = UserFactory(role=Role.MEMBER)
    old_organization, new_organization = member.organization, OrganizationFactory()
    data = _user_form(console, member)
    data.update({"organization": str(new_organization.pk), "is_staff": "on"})

    assert console.post(f"{USERS}{member.pk}/change/", data).status_code == 302

    moved = AuditEvent.objects.get(action="member.organization_changed")
    assert (moved.before, moved.after) == (
        {"organization": old_organization.pk},
        {"organization": new_organization.pk},
    )
    assert moved.organization == new_organization
    staff = AuditEvent.objects.get(action="user.staff_changed")
    assert (staff.actor, staff.before, staff.after) == (operator, {"is_staff": False}, {"is_staff": True})


def test_saving_a_person_unchanged_writes_no_audit_row(console):
    member = UserFactory(role=Role.MEMBER)

    assert console.post(f"{USERS}{member.pk}/change/", _user_form(console, member)).status_code == 302

    assert not AuditEvent.objects.filter(target_id=str(member.pk)).exists()
