"""lead.created is sent when a client's conversation with the customer's bot registers a lead (the real
flow: Telegram update → agent → register_lead tool), after the lead is committed."""

import json

import pytest

from deployments.tests.conftest import fake_telegram, tenant  # noqa: F401  (the same customer and fakes)
from leads.models import Lead
from leads.tests.test_lead_capture import bot, write  # noqa: F401  (the customer's bot with register_lead)
from webhooks.tests.conftest import verify

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_lead_registered_in_a_conversation_sends_lead_created(tenant, bot, receiver, fake_openai):  # noqa: F811
    created = tenant.api.post(
        "/api/v1/webhook-endpoints", {"url": receiver.url, "events": ["lead.created"]}, format="json"
    )
    secret = created.json()["secret"]

    assert write(bot, "I need a website for my bakery, budget 2000 EUR").status_code == 200

    lead = Lead.objects.get()
    [request] = receiver.received
    verify(request, secret)
    event = json.loads(request.body)
    assert event["type"] == "lead.created" and event["organization"] == tenant.owner.organization_id
    assert event["data"]["lead"]["id"] == lead.pk
    assert (event["data"]["lead"]["name"], event["data"]["lead"]["phone"]) == (lead.name, lead.phone)
    assert event["data"]["lead"]["deployment"] == bot.pk
