"""Issue 15 on the dashboard: leads listed (status filter, pages), moved along by any member, exported as
CSV, one lead's page (the owners' notices link to it); owners and admins choose to be told of new leads,
on the page and through the API."""

import csv
import io

import pytest
from django.test import Client

from accounts.tests.factories import UserFactory
from channels_web.views.leads import LEADS_PER_PAGE
from deployments.tests.conftest import client_for
from deployments.tests.factories import ContactFactory, DeploymentFactory
from leads.models import Lead, LeadWatcher
from leads.notifications import announce_lead, lead_url
from leads.tests.factories import LeadFactory
from tenants.models import AuditEvent

pytestmark = pytest.mark.django_db


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def member_user(tenant):
    return UserFactory(organization=tenant.owner.organization, role="member", locale="en")


@pytest.fixture
def admin_user(tenant):
    return UserFactory(organization=tenant.owner.organization, role="admin", locale="en", telegram_id=9_100_002)


@pytest.fixture
def contact(tenant):
    return ContactFactory(deployment=DeploymentFactory(organization=tenant.owner.organization, agent=tenant.sales))


@pytest.fixture
def foreign_lead(tenant):
    theirs = DeploymentFactory(organization=tenant.stranger.organization, agent=tenant.sales)
    return LeadFactory(contact=ContactFactory(deployment=theirs), name="Foreign lead")


def test_leads_are_filtered_by_status_and_paginated(
    tenant, contact, member_user, foreign_lead, django_assert_max_num_queries
):
    LeadFactory.create_batch(LEADS_PER_PAGE + 2, contact=contact)
    won = LeadFactory(contact=contact, status="won", name="Won lead")
    page = browser(member_user)

    with django_assert_max_num_queries(7):
        first = page.get("/leads/")
    assert len(first.context["page"].object_list) == LEADS_PER_PAGE and 'rel="next"' in first.content.decode()
    assert len(page.get("/leads/?page=2").context["page"].object_list) == 3
    only_won = page.get("/leads/?status=won")
    assert list(only_won.context["page"].object_list) == [won]
    assert "Foreign lead" not in first.content.decode() + page.get("/leads/?page=2").content.decode()
    # An unknown status is no filter, not an error.
    assert page.get("/leads/?status=bogus").status_code == 200


def test_a_member_moves_a_lead_along_and_returns_to_the_list(tenant, contact, member_user):
    lead = LeadFactory(contact=contact)

    response = browser(member_user).post(f"/leads/{lead.pk}/status/", {"status": "contacted", "next": "/leads/?page=1"})

    assert response.status_code == 302 and response["Location"] == "/leads/?page=1"
    lead.refresh_from_db()
    assert lead.status == "contacted"
    assert AuditEvent.objects.filter(action="lead.status_changed", actor=member_user).exists()


def test_the_status_form_does_not_redirect_off_site(tenant, contact, member_user):
    lead = LeadFactory(contact=contact)

    response = browser(member_user).post(
        f"/leads/{lead.pk}/status/", {"status": "won", "next": "https://evil.example/"}
    )

    assert response["Location"] == f"/leads/{lead.pk}/"


def test_another_organizations_lead_is_404_everywhere(tenant, member_user, foreign_lead):
    page = browser(member_user)

    assert page.get(f"/leads/{foreign_lead.pk}/").status_code == 404
    assert page.post(f"/leads/{foreign_lead.pk}/status/", {"status": "lost"}).status_code == 404
    foreign_lead.refresh_from_db()
    assert foreign_lead.status == "new"


def test_the_owners_notice_links_to_the_leads_page(tenant, contact):
    lead = LeadFactory(contact=contact, name="Maria Silva", budget="2000 EUR")
    path = lead_url(lead).split("://", 1)[1].split("/", 1)[1]

    response = browser(tenant.owner).get(f"/{path}")

    assert response.status_code == 200
    assert "Maria Silva" in response.content.decode() and "2000 EUR" in response.content.decode()


def test_the_csv_export_has_the_filtered_leads_and_defuses_formulas(tenant, contact, member_user, foreign_lead):
    LeadFactory(contact=contact, name='=HYPERLINK("https://evil.example")', need="@SUM(A1)", status="new")
    LeadFactory(contact=contact, name="Won lead", status="won")

    response = browser(member_user).get("/leads/export.csv?status=new")

    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["name"] for row in rows] == ['\'=HYPERLINK("https://evil.example")']
    assert rows[0]["need"] == "'@SUM(A1)" and rows[0]["phone"] == "+351 912 345 678"
    assert rows[0]["contact_id"] == str(contact.pk) and rows[0]["channel"] == "widget"


def test_an_admin_opts_in_to_lead_notices_and_is_told(tenant, contact, admin_user, fake_telegram):
    page = browser(admin_user)
    assert 'id="lead-notices"' in page.get("/leads/").content.decode()

    page.post("/leads/notices/", {"watching": "1"})
    assert LeadWatcher.objects.filter(user=admin_user).exists()
    lead = LeadFactory(contact=contact)
    assert announce_lead(lead_id=lead.pk) == 2
    assert fake_telegram.sent_texts(chat_id=admin_user.telegram_id, token=fake_telegram.token)

    page.post("/leads/notices/", {})
    assert not LeadWatcher.objects.filter(user=admin_user).exists()
    assert announce_lead(lead_id=lead.pk) == 1
    assert AuditEvent.objects.filter(action="lead_notices.changed", actor=admin_user).count() == 2


def test_a_member_cannot_opt_in_and_sees_no_notice_settings(tenant, member_user):
    page = browser(member_user)

    assert 'id="lead-notices"' not in page.get("/leads/").content.decode()
    page.post("/leads/notices/", {"watching": "1"})
    assert not LeadWatcher.objects.exists()


def test_an_owner_is_always_told(tenant):
    tenant.owner.locale = "en"
    tenant.owner.save(update_fields=["locale"])

    page = browser(tenant.owner).get("/leads/").content.decode()

    assert 'id="notices-always"' in page and 'id="lead-notices"' not in page


def test_lead_notices_through_the_api(tenant, admin_user, member_user):
    admin = client_for(admin_user)
    assert admin.get("/api/v1/leads/notices").json() == {"watching": False, "always": False}
    assert admin.patch("/api/v1/leads/notices", {"watching": True}, format="json").json()["watching"] is True
    assert LeadWatcher.objects.filter(user=admin_user).exists()
    assert tenant.api.get("/api/v1/leads/notices").json() == {"watching": True, "always": True}

    refused = client_for(member_user).patch("/api/v1/leads/notices", {"watching": True}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden_role"
    assert admin.patch("/api/v1/leads/notices", {"watching": "maybe"}, format="json").status_code == 400


def test_an_api_key_cannot_change_a_persons_lead_notices(tenant):
    from tenants.services import create_api_key

    _, secret = create_api_key(organization=tenant.owner.organization, name="ci", actor=tenant.owner)
    tenant.api.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")

    response = tenant.api.patch("/api/v1/leads/notices", {"watching": False}, format="json")

    assert response.status_code == 403 and response.json()["code"] == "insufficient_scope"
    assert not Lead.objects.exists()
