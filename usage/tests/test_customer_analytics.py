"""Customer analytics (Advanced analytics): GET /api/v1/usage/daily and the dashboard page — the feature
decides, other organizations' calls never show, bad input is a 400 with the field, each table is a CSV."""

import csv
import io
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from agents.tests.factories import AgentFactory
from billing.tests.factories import PlanFactory
from botgeneric.channels import Channel
from policy.tests.factories import BillingAccountFactory
from tenants.models import ApiKeyScope
from tenants.services import create_api_key
from usage.models import Outcome, UsageEvent

pytestmark = pytest.mark.django_db

URL = "/api/v1/usage/daily"
PAGE = "/dashboard/analytics/"
ANALYTICS = "Advanced analytics"


def _plan(*features):
    return PlanFactory(features=list(features))


def _subscribe(user, *features):
    return BillingAccountFactory(organization=user.organization, plan=_plan(*features))


def _calls(user, agent, *, days_ago: int, count: int, channel=Channel.API, outcome=Outcome.OK):
    rows = UsageEvent.objects.bulk_create(
        UsageEvent(
            organization=user.organization,
            user=user,
            agent=agent,
            channel=channel,
            outcome=outcome,
            tokens_input=10,
            tokens_output=5,
        )
        for _ in range(count)
    )
    UsageEvent.objects.filter(pk__in=[row.pk for row in rows]).update(
        created_at=timezone.now() - timedelta(days=days_ago, minutes=5)
    )


@pytest.fixture
def scenario(user):
    """`user`'s organization has Advanced analytics and calls; another organization (also with it) calls the
    same agent, and must never show."""
    _subscribe(user, ANALYTICS)
    colleague = UserFactory(organization=user.organization)
    writer, coder = AgentFactory(name="Writer"), AgentFactory(name="Coder")
    _calls(user, writer, days_ago=1, count=3)
    _calls(user, coder, days_ago=1, count=1, channel=Channel.WEB, outcome=Outcome.DENIED)
    _calls(colleague, writer, days_ago=3, count=2, channel=Channel.TELEGRAM)
    stranger = UserFactory()
    _subscribe(stranger, ANALYTICS)
    _calls(stranger, writer, days_ago=1, count=7)
    return {"colleague": colleague, "writer": writer, "coder": coder, "stranger": stranger}


def _expected(organization, key=None):
    """The organization's raw events counted per (day, key) in Python."""
    events = UsageEvent.objects.filter(organization=organization)
    return Counter((event.created_at.date().isoformat(), key(event) if key else None) for event in events)


def test_the_daily_usage_is_the_organizations_own_per_day(auth_client, user, scenario):
    response = auth_client.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == len(body["results"]) == 2
    assert Counter({(row["day"], None): row["requests"] for row in body["results"]}) == _expected(user.organization)
    yesterday = next(row for row in body["results"] if row["requests"] == 4)
    assert (yesterday["ok"], yesterday["denied"], yesterday["tokens_input"]) == (3, 1, 40)


@pytest.mark.parametrize(
    ("group_by", "key"),
    [
        ("agent", lambda event: str(event.agent_id)),
        ("member", lambda event: str(event.user_id)),
        ("channel", lambda event: event.channel),
    ],
)
def test_usage_grouped_by_agent_member_or_channel(auth_client, user, scenario, group_by, key):
    response = auth_client.get(URL, {"group_by": group_by})

    assert response.status_code == 200
    rows = response.json()["results"]
    assert Counter({(row["day"], row["key"]): row["requests"] for row in rows}) == _expected(user.organization, key)
    labels = {row["label"] for row in rows}
    assert scenario["stranger"].email not in labels
    if group_by == "agent":
        assert labels == {"Writer", "Coder"}
    if group_by == "member":
        assert labels == {user.email, scenario["colleague"].email}


def test_pages_of_rows(auth_client, user, scenario):
    first = auth_client.get(URL, {"group_by": "agent", "limit": 1}).json()
    second = auth_client.get(first["next"]).json()

    assert first["count"] == second["count"] == 3
    assert len(first["results"]) == len(second["results"]) == 1
    assert first["results"] != second["results"]


def test_the_window_limits_the_days(auth_client, user, scenario):
    two_days_ago = (timezone.now() - timedelta(days=2)).date()

    rows = auth_client.get(URL, {"from": two_days_ago.isoformat(), "to": timezone.now().date().isoformat()}).json()

    assert [row["requests"] for row in rows["results"]] == [4]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-13-01"}, "to"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "from"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "from"),
        ({"group_by": "plan"}, "group_by"),
        ({"limit": "0"}, "limit"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(auth_client, user, params, field):
    _subscribe(user, ANALYTICS)

    response = auth_client.get(URL, params)

    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_plans_without_advanced_analytics_get_403_with_the_plans_that_have_it(auth_client, user):
    _subscribe(user, "API access")
    yearly = _plan("API access", ANALYTICS)

    response = auth_client.get(URL)

    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "feature_not_in_plan"
    assert body["upgrade_plans"] == [{"code": yearly.code, "name": yearly.name}]


def test_an_api_key_reads_it_with_the_read_scope_only(user, scenario):
    _, reader = create_api_key(organization=user.organization, name="reader", actor=user)
    _, invoker = create_api_key(organization=user.organization, name="invoker", actor=user, scopes=[ApiKeyScope.INVOKE])
    client = APIClient()

    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {reader}")
    read = client.get(URL)
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {invoker}")
    refused = client.get(URL)

    assert read.status_code == 200 and sum(row["requests"] for row in read.json()["results"]) == 6
    assert refused.status_code == 403 and refused.json()["code"] == "insufficient_scope"


def test_the_daily_usage_needs_authentication(api_client):
    assert api_client.get(URL).status_code == 401


def test_the_schema_documents_the_endpoint(api_client, db):
    schema = api_client.get("/api/v1/schema/", {"format": "json"}).json()
    operation = schema["paths"][URL]["get"]

    assert operation["operationId"] == "usage_daily"
    page = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(schema["components"]["schemas"][page]["properties"]) == {"count", "next", "previous", "results"}
    assert {parameter["name"] for parameter in operation["parameters"]} >= {"from", "to", "group_by", "limit"}
    assert {"200", "400", "401", "402", "403"} <= set(operation["responses"])


# --- The dashboard page ---


def test_the_dashboard_shows_usage_tables_and_csv(client, user, scenario, django_assert_max_num_queries):
    client.force_login(user)

    with django_assert_max_num_queries(24):
        page = client.get(PAGE)

    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-chart="usage-chart"' in html and "vendor/chartjs/chart.umd.min.js" in html
    assert scenario["stranger"].email not in html
    agents = list(csv.DictReader(io.StringIO(client.get(PAGE, {"export": "agent"}).content.decode())))
    assert {row["Agent"]: int(row["Calls"]) for row in agents} == {"Writer": 5, "Coder": 1}
    members = list(csv.DictReader(io.StringIO(client.get(PAGE, {"export": "member"}).content.decode())))
    assert {row["Member"] for row in members} == {user.email, scenario["colleague"].email}
    days = list(csv.DictReader(io.StringIO(client.get(PAGE, {"export": "day"}).content.decode())))
    assert len(days) == 30 and sum(int(row["Calls"]) for row in days) == 6


def test_the_dashboard_offers_the_plans_with_the_feature_to_the_others(client, user):
    _subscribe(user)
    yearly = PlanFactory(name="Yearly", features=[ANALYTICS])
    client.force_login(user)

    page = client.get(PAGE)

    assert page.status_code == 403
    assert yearly.name in page.content.decode()
    assert client.get(PAGE, {"export": "day"}).status_code == 403


def test_the_dashboard_refuses_a_bad_period(client, user):
    _subscribe(user, ANALYTICS)
    client.force_login(user)

    page = client.get(PAGE, {"start": "2026-02-01", "end": "2026-01-01"})

    assert page.status_code == 400
    assert "start" in page.context["form"].errors
