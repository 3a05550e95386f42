"""Issue 18 item 1 on the dashboard: the organization page manages people, and an invitation link's page
signs a visitor up into the inviting organization (or lets a signed-in person accept)."""

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client

from accounts.models import User
from accounts.tests.factories import UserFactory
from accounts.tests.members_helpers import token_in
from billing.tests.account_factories import BillingAccountFactory, make_plan
from billing.tests.factories import PlanFactory
from channels_web.tests.test_social_signin import google_sign_in
from tenants.models import AuditEvent, Invitation, Organization, Role
from testing.fakes.oidc_provider import Person

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-unusual-passphrase-42"


@pytest.fixture
def owner(db):
    owner = UserFactory(email="boss@example.com", role=Role.OWNER)
    BillingAccountFactory(organization=owner.organization, plan=PlanFactory(max_members=5))
    return owner


@pytest.fixture
def browser(owner):
    client = Client()
    client.force_login(owner)
    return client


@pytest.fixture
def colleague(owner):
    return UserFactory(email="colleague@example.com", organization=owner.organization, role=Role.MEMBER)


@pytest.fixture
def invited(browser, django_capture_on_commit_callbacks):
    """Invite through the page's form; returns the mailed link's token."""

    def send(email: str, role: str = "member") -> str:
        with django_capture_on_commit_callbacks(execute=True):
            response = browser.post("/organization/invitations/", {"email": email, "role": role})
        assert response.status_code == 302
        return token_in(mail.outbox[-1])

    return send


def test_an_invitation_sent_from_the_page_is_listed_and_can_be_revoked(browser, invited):
    invited("friend@example.com", role="admin")

    page = browser.get("/organization/").content.decode()
    assert "friend@example.com" in page
    invitation = Invitation.objects.get()
    assert f"/organization/invitations/{invitation.pk}/revoke/" in page

    assert browser.post(f"/organization/invitations/{invitation.pk}/revoke/").status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert list(browser.get("/organization/").context["invitations"]) == []


def test_a_visitor_signs_up_through_the_link_and_lands_in_the_inviting_organization(owner, invited):
    token = invited("friend@example.com", role="admin")
    visitor = Client()

    landing = visitor.get(f"/invitations/{token}/")
    assert landing.status_code == 200
    assert owner.organization.name in landing.content.decode()
    signup = visitor.post(
        "/accounts/signup/", {"email": "friend@example.com", "password1": PASSWORD, "password2": PASSWORD}
    )

    assert signup.status_code == 302
    friend = User.objects.get(email="friend@example.com")
    assert (friend.organization_id, friend.role, friend.email_verified) == (owner.organization_id, Role.ADMIN, True)
    assert EmailAddress.objects.get(user=friend).verified
    assert Organization.objects.count() == 1
    assert visitor.get("/organization/").status_code == 200


def test_a_visitor_with_another_address_gets_no_account_from_the_link(invited):
    token = invited("friend@example.com")
    visitor = Client()
    visitor.get(f"/invitations/{token}/")

    response = visitor.post(
        "/accounts/signup/", {"email": "intruder@example.com", "password1": PASSWORD, "password2": PASSWORD}
    )

    assert response.status_code == 302
    assert not User.objects.filter(email="intruder@example.com").exists()
    assert Invitation.objects.get().accepted_at is None


def test_a_signed_in_person_accepts_on_the_links_page(owner, invited):
    token = invited("newcomer@example.com")
    newcomer = UserFactory(email="newcomer@example.com")
    BillingAccountFactory(organization=newcomer.organization)
    their_own = newcomer.organization_id
    client = Client()
    client.force_login(newcomer)

    response = client.post(f"/invitations/{token}/")

    assert response.status_code == 302
    newcomer.refresh_from_db()
    assert newcomer.organization_id == owner.organization_id
    assert not Organization.objects.filter(pk=their_own).exists()


def test_a_used_link_says_so(owner, invited):
    token = invited("once@example.com")
    Invitation.objects.update(accepted_at=owner.date_joined)

    page = Client().get(f"/invitations/{token}/")

    assert page.status_code == 200
    assert "already been used" in page.content.decode()


def test_an_unknown_link_is_not_found():
    assert Client().get("/invitations/nothing-here/").status_code == 404


def test_a_role_is_changed_from_the_page(browser, colleague):
    assert browser.post(f"/organization/members/{colleague.pk}/role/", {"role": "admin"}).status_code == 302

    colleague.refresh_from_db()
    assert colleague.role == Role.ADMIN


def test_removing_asks_first_then_removes(browser, colleague):
    confirm = browser.get(f"/organization/members/{colleague.pk}/remove/")
    assert confirm.status_code == 200
    assert colleague.email in confirm.content.decode()
    colleague.refresh_from_db()
    assert colleague.organization_id is not None

    assert browser.post(f"/organization/members/{colleague.pk}/remove/").status_code == 302
    colleague.refresh_from_db()
    assert colleague.organization_id is None
    assert AuditEvent.objects.filter(action="member.removed").exists()


def test_ownership_is_transferred_after_a_confirmation(browser, owner, colleague):
    assert browser.get(f"/organization/members/{colleague.pk}/transfer/").status_code == 200

    assert browser.post(f"/organization/members/{colleague.pk}/transfer/").status_code == 302
    colleague.refresh_from_db()
    owner.refresh_from_db()
    assert (colleague.role, owner.role) == (Role.OWNER, Role.ADMIN)


def test_the_organization_is_renamed_from_the_page(browser, owner):
    browser.post("/organization/rename/", {"name": "Acme"})

    owner.organization.refresh_from_db()
    assert owner.organization.name == "Acme"


def test_an_admin_trying_to_remove_the_owner_reads_why_not(owner):
    admin = UserFactory(organization=owner.organization, role=Role.ADMIN)
    client = Client()
    client.force_login(admin)

    response = client.post(f"/organization/members/{owner.pk}/remove/", follow=True)

    assert "does not allow this" in response.content.decode()
    owner.refresh_from_db()
    assert owner.organization_id is not None


def test_members_see_the_list_without_controls(owner, colleague):
    client = Client()
    client.force_login(colleague)

    page = client.get("/organization/").content.decode()

    assert owner.email in page
    assert "/remove/" not in page
    assert "/organization/invitations/" not in page
    assert client.post(f"/organization/members/{owner.pk}/remove/").status_code == 302
    owner.refresh_from_db()
    assert owner.organization_id is not None


def test_another_organizations_member_is_not_found_on_the_page(browser):
    stranger = UserFactory()

    assert browser.get(f"/organization/members/{stranger.pk}/remove/").status_code == 404
    assert browser.post(f"/organization/members/{stranger.pk}/role/", {"role": "admin"}).status_code == 404


def test_a_visitor_signs_up_with_google_through_the_link_for_their_address(owner, invited, fake_google, settings):
    make_plan(settings.TRIAL_PLAN)
    token = invited("googler@example.com")
    fake_google.person = Person(email="googler@example.com")
    visitor = Client()
    visitor.get(f"/invitations/{token}/")

    assert google_sign_in(visitor, fake_google).status_code == 302

    googler = User.objects.get(email="googler@example.com")
    assert (googler.organization_id, googler.role) == (owner.organization_id, Role.MEMBER)
    assert Organization.objects.count() == 1
    assert Invitation.objects.get().accepted_by == googler


def test_a_google_sign_up_with_another_address_gets_its_own_organization(owner, invited, fake_google, settings):
    make_plan(settings.TRIAL_PLAN)
    token = invited("invited@example.com")
    fake_google.person = Person(email="someone@example.com")
    visitor = Client()
    visitor.get(f"/invitations/{token}/")

    google_sign_in(visitor, fake_google)

    someone = User.objects.get(email="someone@example.com")
    assert someone.organization_id != owner.organization_id
    assert someone.role == Role.OWNER
    assert Invitation.objects.get().accepted_at is None
