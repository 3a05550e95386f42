"""Issue 18 item 1: the organization and its members through the API — rename, roles, removal, ownership."""

import pytest

from accounts.models import User
from accounts.tests.factories import UserFactory
from accounts.tests.members_helpers import client_for
from tenants.models import ApiKey, AuditEvent, Role
from tenants.services import create_api_key
from tenants.tests.test_api_keys import key_client

pytestmark = pytest.mark.django_db


def test_everyone_in_the_organization_reads_it_with_their_role_and_seats(as_member, owner, admin):
    response = as_member.get("/api/v1/organization")

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["name"], body["role"]) == (owner.organization_id, owner.organization.name, "member")
    assert body["seats"] == {"limit": 3, "members": 3, "pending_invitations": 0, "used": 3}


def test_an_admin_renames_the_organization_and_it_is_audited(as_admin, owner):
    before = owner.organization.name

    response = as_admin.patch("/api/v1/organization", {"name": "  Acme   Robotics "}, format="json")

    assert response.status_code == 200
    assert response.json()["name"] == "Acme Robotics"
    owner.organization.refresh_from_db()
    assert owner.organization.name == "Acme Robotics"
    event = AuditEvent.objects.get(action="organization.renamed")
    assert (event.before, event.after) == ({"name": before}, {"name": "Acme Robotics"})
    assert event.actor_id == as_admin.user.pk


def test_a_member_cannot_rename_the_organization(as_member, owner):
    response = as_member.patch("/api/v1/organization", {"name": "Mine now"}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden_role"
    owner.organization.refresh_from_db()
    assert owner.organization.name != "Mine now"


def test_a_blank_name_is_a_field_error(as_owner):
    response = as_owner.patch("/api/v1/organization", {"name": "   "}, format="json")

    assert response.status_code == 400
    assert "name" in response.json()["fields"]


def test_members_are_listed_owner_first_without_other_organizations(
    as_member, owner, admin, member, django_assert_max_num_queries
):
    UserFactory(email="stranger@example.com")
    for number in range(5):
        UserFactory(email=f"extra{number}@example.com", organization=owner.organization, role=Role.MEMBER)

    with django_assert_max_num_queries(4):
        response = as_member.get("/api/v1/organization/members")

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["email"] for row in rows[:2]] == ["owner@example.com", "admin@example.com"]
    assert "stranger@example.com" not in {row["email"] for row in rows}
    assert len(rows) == 8


def test_an_admin_makes_a_member_an_admin_and_it_is_audited(as_admin, member):
    response = as_admin.patch(f"/api/v1/organization/members/{member.pk}", {"role": "admin"}, format="json")

    assert response.status_code == 200
    assert response.json()["role"] == "admin"
    member.refresh_from_db()
    assert member.role == Role.ADMIN
    event = AuditEvent.objects.get(action="member.role_changed")
    assert (event.target_id, event.before, event.after) == (str(member.pk), {"role": "member"}, {"role": "admin"})


def test_an_admin_cannot_change_the_owner(as_admin, owner):
    response = as_admin.patch(f"/api/v1/organization/members/{owner.pk}", {"role": "member"}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden_role"
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def test_the_owner_cannot_demote_themselves_without_a_transfer(as_owner, owner):
    response = as_owner.patch(f"/api/v1/organization/members/{owner.pk}", {"role": "admin"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "owner_must_transfer"


def test_ownership_is_not_a_role_to_give(as_owner, member):
    response = as_owner.patch(f"/api/v1/organization/members/{member.pk}", {"role": "owner"}, format="json")

    assert response.status_code == 400
    assert "role" in response.json()["fields"]
    member.refresh_from_db()
    assert member.role == Role.MEMBER


def test_a_member_cannot_change_roles(as_member, admin):
    response = as_member.patch(f"/api/v1/organization/members/{admin.pk}", {"role": "member"}, format="json")

    assert response.status_code == 403
    admin.refresh_from_db()
    assert admin.role == Role.ADMIN


def test_another_organizations_member_is_not_found(as_owner):
    stranger = UserFactory(role=Role.MEMBER)

    change = as_owner.patch(f"/api/v1/organization/members/{stranger.pk}", {"role": "admin"}, format="json")
    assert change.status_code == 404
    assert as_owner.delete(f"/api/v1/organization/members/{stranger.pk}").status_code == 404
    transfer = as_owner.post("/api/v1/organization/transfer-ownership", {"user": stranger.pk}, format="json")
    assert transfer.status_code == 404
    stranger.refresh_from_db()
    assert (stranger.role, stranger.organization_id) == (Role.MEMBER, stranger.organization_id)


def test_a_removed_members_api_key_fails_on_the_very_next_request(as_admin, owner, member):
    key, secret = create_api_key(organization=owner.organization, name="member's", actor=member)
    api = key_client(secret)
    assert api.get("/api/v1/agents").status_code == 200

    response = as_admin.delete(f"/api/v1/organization/members/{member.pk}")

    assert response.status_code == 204
    assert api.get("/api/v1/agents").status_code == 401
    member.refresh_from_db()
    assert member.organization_id is None
    key.refresh_from_db()
    assert key.revoked_at is not None
    event = AuditEvent.objects.get(action="member.removed")
    assert event.organization_id == owner.organization_id
    assert event.before == {"email": "member@example.com", "role": "member"}
    assert event.after == {"api_keys_revoked": [key.pk]}


def test_an_admin_cannot_remove_the_owner(as_admin, owner):
    response = as_admin.delete(f"/api/v1/organization/members/{owner.pk}")

    assert response.status_code == 403
    owner.refresh_from_db()
    assert owner.organization_id is not None


def test_a_member_cannot_remove_anyone(as_member, admin):
    assert as_member.delete(f"/api/v1/organization/members/{admin.pk}").status_code == 403
    admin.refresh_from_db()
    assert admin.organization_id is not None


def test_the_owner_transfers_ownership_and_stays_as_an_admin(as_owner, owner, member):
    response = as_owner.post("/api/v1/organization/transfer-ownership", {"user": member.pk}, format="json")

    assert response.status_code == 200
    assert response.json()["role"] == "owner"
    roles = dict(User.objects.filter(organization=owner.organization).values_list("email", "role"))
    assert roles["member@example.com"] == Role.OWNER
    assert roles["owner@example.com"] == Role.ADMIN
    assert list(roles.values()).count(Role.OWNER) == 1
    event = AuditEvent.objects.get(action="organization.ownership_transferred")
    assert (event.before["owner"], event.after["owner"]) == (owner.pk, member.pk)


def test_only_the_owner_transfers_ownership(as_admin, member):
    response = as_admin.post("/api/v1/organization/transfer-ownership", {"user": member.pk}, format="json")

    assert response.status_code == 403
    member.refresh_from_db()
    assert member.role == Role.MEMBER


def test_ownership_goes_to_an_active_member_only(as_owner, member):
    member.is_active = False
    member.save()

    response = as_owner.post("/api/v1/organization/transfer-ownership", {"user": member.pk}, format="json")

    assert response.status_code == 400
    assert "user" in response.json()["fields"]


def test_an_api_key_reads_members_but_never_changes_them(owner, member):
    _, secret = create_api_key(organization=owner.organization, name="script", actor=owner)
    api = key_client(secret)

    assert api.get("/api/v1/organization/members").status_code == 200
    for response in (
        api.patch(f"/api/v1/organization/members/{member.pk}", {"role": "admin"}, format="json"),
        api.delete(f"/api/v1/organization/members/{member.pk}"),
        api.patch("/api/v1/organization", {"name": "x"}, format="json"),
        api.post("/api/v1/organization/transfer-ownership", {"user": member.pk}, format="json"),
        api.post("/api/v1/organization/invitations", {"email": "x@example.com"}, format="json"),
    ):
        assert response.status_code == 403
        assert response.json()["code"] == "insufficient_scope"
    assert ApiKey.objects.count() == 1


def test_someone_without_an_organization_has_none_to_read():
    loner = UserFactory(organization=None, role=Role.MEMBER)

    response = client_for(loner).get("/api/v1/organization")

    assert response.status_code == 404
