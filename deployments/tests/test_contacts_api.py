"""`GET /api/v1/contacts`: the organization's clients, filtered by channel or deployment, paginated;
`GET /api/v1/contacts/{id}`: one client with its conversations. Never another organization's."""

import pytest
import yaml

from deployments.services import open_conversation
from deployments.tests.factories import ContactFactory, DeploymentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def clients(tenant):
    """Two deployments of the tenant (a bot and a widget) with clients, and a client of a stranger."""
    organization = tenant.owner.organization
    bot = DeploymentFactory(telegram=True, organization=organization, agent=tenant.sales)
    site = DeploymentFactory(organization=organization, agent=tenant.sales)
    on_bot = [ContactFactory(deployment=bot) for _ in range(2)]
    on_site = [ContactFactory(deployment=site) for _ in range(3)]
    foreign = DeploymentFactory(organization=tenant.stranger.organization, agent=tenant.sales)
    ContactFactory(deployment=foreign)
    return bot, site, on_bot, on_site, foreign


def ids(response) -> set[int]:
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["results"]}


def test_contacts_filter_by_channel_and_by_deployment(tenant, clients):
    bot, site, on_bot, on_site, _ = clients

    assert ids(tenant.api.get("/api/v1/contacts")) == {contact.pk for contact in on_bot + on_site}
    assert ids(tenant.api.get("/api/v1/contacts?channel=telegram")) == {contact.pk for contact in on_bot}
    assert ids(tenant.api.get(f"/api/v1/contacts?deployment={site.pk}")) == {contact.pk for contact in on_site}
    assert ids(tenant.api.get(f"/api/v1/contacts?channel=telegram&deployment={site.pk}")) == set()


def test_filtering_by_another_organizations_deployment_finds_nothing(tenant, clients):
    *_, foreign = clients

    assert ids(tenant.api.get(f"/api/v1/contacts?deployment={foreign.pk}")) == set()


def test_a_bad_filter_is_a_400_naming_the_field(tenant, clients):
    response = tenant.api.get("/api/v1/contacts?channel=fax")

    assert response.status_code == 400
    assert "channel" in response.json()["fields"]


def test_contacts_are_paginated_in_a_fixed_number_of_queries(tenant, clients, django_assert_max_num_queries):
    bot, *_ = clients
    for _ in range(30):
        ContactFactory(deployment=bot)

    with django_assert_max_num_queries(6):
        body = tenant.api.get("/api/v1/contacts?limit=20").json()

    assert body["count"] == 35 and len(body["results"]) == 20 and body["next"]
    rest = tenant.api.get("/api/v1/contacts?limit=20&offset=20").json()["results"]
    assert len({row["id"] for row in body["results"] + rest}) == 35


def test_a_contact_shows_its_conversations_newest_first_and_its_count(tenant, clients):
    _, site, _, on_site, _ = clients
    contact = on_site[0]
    older = open_conversation(deployment=site, contact=contact, user=tenant.owner)
    newer = open_conversation(deployment=site, contact=contact, user=tenant.owner)
    newer.messages.create(role="user", content="Hello")

    body = tenant.api.get(f"/api/v1/contacts/{contact.pk}").json()

    assert [row["id"] for row in body["conversations"]] == [newer.pk, older.pk]
    assert body["conversation_count"] == 2
    assert tenant.stranger_api.get(f"/api/v1/contacts/{contact.pk}").status_code == 404


def test_the_schema_documents_the_contact_filters(tenant):
    schema = yaml.safe_load(tenant.api.get("/api/v1/schema/").content)

    parameters = {parameter["name"] for parameter in schema["paths"]["/api/v1/contacts"]["get"]["parameters"]}
    assert {"channel", "deployment", "limit", "offset"} <= parameters
    assert "conversations" in schema["components"]["schemas"]["ContactDetailOutput"]["properties"]
