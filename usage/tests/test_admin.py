from decimal import Decimal

import pytest

from accounts.tests.factories import UserFactory
from botgeneric.channels import Channel
from usage.models import Outcome, UsageEvent
from usage.services import record_event


@pytest.fixture
def operator_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_usage_events_are_listed_filtered_and_read_only(operator_client, django_assert_max_num_queries):
    customer = UserFactory()
    for outcome in (Outcome.OK, Outcome.DENIED, Outcome.ERROR):
        record_event(user=customer, agent=None, channel=Channel.API, outcome=outcome)

    with django_assert_max_num_queries(12):
        response = operator_client.get("/admin/usage/usageevent/?outcome=denied&channel=api")

    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    event = UsageEvent.objects.first()
    assert operator_client.get("/admin/usage/usageevent/add/").status_code == 403
    assert operator_client.post(f"/admin/usage/usageevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert UsageEvent.objects.count() == 3


def test_usage_event_costs_show_in_dollars_to_the_digits_that_matter(operator_client):
    customer = UserFactory()
    record_event(user=customer, agent=None, channel=Channel.API, outcome=Outcome.OK)
    UsageEvent.objects.update(cost_usd=Decimal("0.00012300"))

    response = operator_client.get("/admin/usage/usageevent/")

    html = response.content.decode()
    assert '<td class="field-cost">$0.000123</td>' in html
    assert "0.00012300" not in html
