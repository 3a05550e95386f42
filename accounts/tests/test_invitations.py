"""Issue 18 item 1: invitations — sent, accepted by a new or an existing person, refused when they cannot
be used — and seats, which the policy counts with pending invitations."""

from datetime import timedelta
from email import message_from_bytes

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import User
from accounts.services import mark_email_verified
from accounts.tests.factories import UserFactory
from accounts.tests.members_helpers import LINK, client_for, token_in
from agents.models import Conversation
from agents.tests.factories import AgentFactory
from billing.models import BillingAccount
from billing.tests.account_factories import BillingAccountFactory
from billing.tests.factories import PlanFactory
from tenants.models import AuditEvent, Invitation, Organization, Role
from tenants.services import create_api_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def invite(as_owner, django_capture_on_commit_callbacks):
    """Invite an address as the owner; returns the link's token from the e-mail sent after commit."""

    def send(email: str, role: str = "member", client=None) -> str:
        with django_capture_on_commit_callbacks(execute=True):
            response = (client or as_owner).post(
                "/api/v1/organization/invitations", {"email": email, "role": role}, format="json"
            )
        assert response.status_code == 201, response.json()
        return token_in(mail.outbox[-1])

    return send


def register(api_client, email: str, token: str | None, django_capture_on_commit_callbacks):
    body = {"email": email, "password": "a-long-passphrase-1"}
    if token is not None:
        body["invitation"] = token
    with django_capture_on_commit_callbacks(execute=True):
        return api_client.post("/api/v1/auth/register", body, format="json")


def test_the_invitation_mail_carries_a_link_and_the_token_is_stored_only_as_a_hash(invite, owner):
    token = invite("New.Person@example.com", role="admin")

    [message] = mail.outbox
    assert message.to == ["new.person@example.com"]
    assert owner.organization.name in message.subject
    assert f"/invitations/{token}/" in message.body
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role) == ("new.person@example.com", Role.ADMIN)
    assert token not in invitation.token_hash
    assert AuditEvent.objects.filter(action="invitation.created", organization=owner.organization).exists()


def test_a_new_person_signs_up_through_the_link_and_joins_the_inviting_organization(
    invite, owner, api_client, django_capture_on_commit_callbacks
):
    token = invite("new@example.com", role="admin")
    organizations = Organization.objects.count()

    response = register(api_client, "new@example.com", token, django_capture_on_commit_callbacks)

    assert response.status_code == 201, response.json()
    assert response.json()["organization"]["id"] == owner.organization_id
    person = User.objects.get(email="new@example.com")
    assert (person.organization_id, person.role, person.email_verified) == (owner.organization_id, Role.ADMIN, True)
    assert Organization.objects.count() == organizations
    assert Invitation.objects.get().accepted_by == person
    assert AuditEvent.objects.filter(action="member.joined", organization=owner.organization, actor=person).exists()
    assert client_for(person).get("/api/v1/organization").json()["role"] == "admin"


def test_a_sign_up_with_another_address_cannot_use_the_link(invite, api_client, django_capture_on_commit_callbacks):
    token = invite("invited@example.com")

    response = register(api_client, "someone-else@example.com", token, django_capture_on_commit_callbacks)

    assert response.status_code == 403
    assert response.json()["code"] == "invitation_email_mismatch"
    assert not User.objects.filter(email="someone-else@example.com").exists()
    assert Invitation.objects.get().accepted_at is None


def test_a_link_works_once(invite, api_client, django_capture_on_commit_callbacks):
    token = invite("once@example.com")
    assert register(api_client, "once@example.com", token, django_capture_on_commit_callbacks).status_code == 201
    again = UserFactory(email="again@example.com")

    response = client_for(again).post("/api/v1/invitations/accept", {"token": token}, format="json")

    assert response.status_code == 410
    assert response.json()["code"] == "invitation_used"


def test_an_expired_link_is_refused(invite, api_client, django_capture_on_commit_callbacks):
    token = invite("late@example.com")
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = register(api_client, "late@example.com", token, django_capture_on_commit_callbacks)

    assert response.status_code == 410
    assert response.json()["code"] == "invitation_expired"
    assert not User.objects.filter(email="late@example.com").exists()


def test_a_revoked_link_is_refused(invite, as_admin, api_client, django_capture_on_commit_callbacks):
    token = invite("withdrawn@example.com")
    invitation = Invitation.objects.get()

    assert as_admin.delete(f"/api/v1/organization/invitations/{invitation.pk}").status_code == 204
    response = register(api_client, "withdrawn@example.com", token, django_capture_on_commit_callbacks)

    assert response.status_code == 410
    assert response.json()["code"] == "invitation_revoked"
    assert AuditEvent.objects.filter(action="invitation.revoked", target_id=str(invitation.pk)).exists()


def test_an_unknown_token_is_not_valid(api_client, django_capture_on_commit_callbacks):
    response = register(api_client, "who@example.com", "not-a-real-token", django_capture_on_commit_callbacks)

    assert response.status_code == 404
    assert response.json()["code"] == "invitation_invalid"


def test_an_existing_user_with_nothing_of_their_own_moves_and_their_empty_organization_goes(
    invite, owner, api_client, django_capture_on_commit_callbacks
):
    registered = register(api_client, "solo@example.com", None, django_capture_on_commit_callbacks)
    assert registered.status_code == 201
    solo = User.objects.get(email="solo@example.com")
    mark_email_verified(user=solo, email=solo.email)
    own_organization = solo.organization_id
    token = invite("solo@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(solo).post("/api/v1/invitations/accept", {"token": token}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["organization"]["id"] == owner.organization_id
    solo.refresh_from_db()
    assert (solo.organization_id, solo.role) == (owner.organization_id, Role.MEMBER)
    assert not Organization.objects.filter(pk=own_organization).exists()
    assert not BillingAccount.objects.filter(organization_id=own_organization).exists()
    removed = AuditEvent.objects.get(action="organization.removed")
    assert removed.target_id == str(own_organization)
    assert removed.after == {"reason": "only_member_moved", "moved_to": owner.organization_id}
    assert AuditEvent.objects.filter(action="user.registered", actor=solo, organization__isnull=True).exists()
    assert AuditEvent.objects.filter(action="member.joined", organization=owner.organization, actor=solo).exists()


@pytest.mark.parametrize("data", ["conversation", "api_key", "colleague"])
def test_an_existing_user_whose_organization_has_data_is_refused(invite, data):
    mover = UserFactory(email="busy@example.com")
    BillingAccountFactory(organization=mover.organization)
    if data == "conversation":
        Conversation.objects.create(organization=mover.organization, user=mover, agent=AgentFactory())
    elif data == "api_key":
        create_api_key(organization=mover.organization, name="mine", actor=mover)
    else:
        UserFactory(organization=mover.organization, role=Role.MEMBER)
    token = invite("busy@example.com")

    response = client_for(mover).post("/api/v1/invitations/accept", {"token": token}, format="json")

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "organization_not_empty"
    expected = {"conversation": "conversations", "api_key": "api_keys", "colleague": "members"}[data]
    assert expected in body["reasons"]
    mover.refresh_from_db()
    assert Organization.objects.filter(pk=mover.organization_id).exists()
    assert Invitation.objects.get().accepted_at is None


def test_the_invitation_is_for_the_signed_in_persons_own_verified_address(invite):
    token = invite("right@example.com")
    wrong = UserFactory(email="wrong@example.com")
    unverified = UserFactory(email="right@example.com", email_verified=False)

    mismatch = client_for(wrong).post("/api/v1/invitations/accept", {"token": token}, format="json")
    not_verified = client_for(unverified).post("/api/v1/invitations/accept", {"token": token}, format="json")

    assert (mismatch.status_code, mismatch.json()["code"]) == (403, "invitation_email_mismatch")
    assert (not_verified.status_code, not_verified.json()["code"]) == (403, "invitation_email_unverified")
    assert Invitation.objects.get().accepted_at is None


def test_a_member_cannot_invite(as_member):
    response = as_member.post("/api/v1/organization/invitations", {"email": "x@example.com"}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden_role"
    assert not Invitation.objects.exists()


def test_nobody_invites_an_owner(as_owner):
    response = as_owner.post(
        "/api/v1/organization/invitations", {"email": "boss@example.com", "role": "owner"}, format="json"
    )

    assert response.status_code == 400
    assert "role" in response.json()["fields"]


def test_a_member_is_not_invited_again(as_owner, member):
    response = as_owner.post("/api/v1/organization/invitations", {"email": member.email}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "already_member"


def test_inviting_again_replaces_the_open_invitation(invite, api_client, django_capture_on_commit_callbacks):
    first = invite("twice@example.com")
    second = invite("twice@example.com")

    assert Invitation.objects.filter(revoked_at__isnull=True).count() == 1
    stale = register(api_client, "twice@example.com", first, django_capture_on_commit_callbacks)
    assert stale.json()["code"] == "invitation_revoked"
    assert register(api_client, "twice@example.com", second, django_capture_on_commit_callbacks).status_code == 201


def test_invitations_are_listed_for_managers_and_other_organizations_ids_are_not_found(invite, as_admin):
    invite("listed@example.com")
    other_owner = UserFactory()
    BillingAccountFactory(organization=other_owner.organization, plan=PlanFactory(max_members=None))
    invite("theirs@example.com", client=client_for(other_owner))
    theirs = Invitation.objects.get(email="theirs@example.com")

    listed = as_admin.get("/api/v1/organization/invitations")
    revoked = as_admin.delete(f"/api/v1/organization/invitations/{theirs.pk}")

    assert [row["email"] for row in listed.json()["results"]] == ["listed@example.com"]
    assert listed.json()["results"][0]["status"] == "pending"
    assert revoked.status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_pending_invitations_take_seats_until_the_plan_has_none_left(invite, as_owner, owner):
    invite("second@example.com")
    invite("third@example.com")

    response = as_owner.post("/api/v1/organization/invitations", {"email": "fourth@example.com"}, format="json")

    assert response.status_code == 403
    body = response.json()
    assert (body["code"], body["limit"], body["used"]) == ("seats_exhausted", 3, 3)
    assert Invitation.objects.filter(email="fourth@example.com").count() == 0


def test_revoking_an_invitation_frees_its_seat(invite, as_owner):
    invite("second@example.com")
    invite("third@example.com")
    Invitation.objects.filter(email="third@example.com").update(revoked_at=timezone.now())

    invite("fourth@example.com")

    assert Invitation.objects.filter(email="fourth@example.com").exists()


def test_an_expired_invitation_no_longer_holds_a_seat(invite):
    invite("second@example.com")
    invite("third@example.com")
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))

    invite("fourth@example.com")


def test_a_plan_without_a_seat_limit_never_runs_out(invite, team_plan):
    team_plan.max_members = None
    team_plan.save()

    for number in range(5):
        invite(f"person{number}@example.com")

    assert Invitation.objects.count() == 5


def test_the_mail_is_in_the_invitees_language_when_they_have_an_account(invite, owner):
    UserFactory(email="ru@example.com", locale="ru")

    invite("ru@example.com")

    [message] = mail.outbox
    assert "приглашает" in message.subject
    assert "Принять приглашение" in message.body


def test_the_invitation_reaches_the_mail_server_only_after_commit_with_a_working_link(
    smtp, as_owner, owner, api_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_owner.post("/api/v1/organization/invitations", {"email": "smtp@example.com"}, format="json")
        assert response.status_code == 201
        assert smtp.messages == []  # nothing leaves before the invitation commits

    [raw] = smtp.messages
    delivered = message_from_bytes(raw)
    assert delivered["To"] == "smtp@example.com"
    assert owner.organization.name in delivered["Subject"]
    body = delivered.get_payload(decode=True).decode()
    token = LINK.search(body).group(1)
    assert "http://" in body and f"/invitations/{token}/" in body
    joined = register(api_client, "smtp@example.com", token, django_capture_on_commit_callbacks)
    assert joined.json()["organization"]["id"] == owner.organization_id


def test_the_mail_is_in_the_inviters_language_when_the_invitee_is_unknown(as_owner, owner, invite):
    owner.locale = "ru"
    owner.save()

    invite("stranger@example.com")

    assert "приглашает" in mail.outbox[-1].subject


def test_an_organization_awaiting_deletion_invites_no_one(as_owner, owner):
    Organization.objects.filter(pk=owner.organization_id).update(deletion_due_at=timezone.now() + timedelta(days=14))

    response = as_owner.post("/api/v1/organization/invitations", {"email": "late@example.com"}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "organization_pending_deletion"
    assert not Invitation.objects.exists()


def test_no_one_joins_an_organization_awaiting_deletion(invite, owner, api_client, django_capture_on_commit_callbacks):
    token = invite("late@example.com")
    Organization.objects.filter(pk=owner.organization_id).update(deletion_due_at=timezone.now() + timedelta(days=14))

    response = register(api_client, "late@example.com", token, django_capture_on_commit_callbacks)

    assert response.status_code == 403
    assert response.json()["code"] == "organization_pending_deletion"
    assert not User.objects.filter(email="late@example.com").exists()
