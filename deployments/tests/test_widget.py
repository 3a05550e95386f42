"""The website widget's endpoints: only the allowed origins, a visitor token bound to its deployment,
a per-visitor rate limit, the answer as Server-Sent Events; metered against the organization."""

import json

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client

from agents.models import Conversation
from deployments.models import Contact
from deployments.tests.factories import DeploymentFactory
from usage.models import UsageEvent

pytestmark = pytest.mark.django_db(transaction=True)

SHOP = "https://shop.example.com"


@pytest.fixture
def widget(tenant):
    return DeploymentFactory(organization=tenant.owner.organization, agent=tenant.sales, allowed_origins=[SHOP])


def call(deployment, path, body, origin=SHOP):
    """The widget's request as the browser sends it; a streamed answer is read to its end (`.body`)."""

    async def run():
        response = await AsyncClient().post(
            f"/widget/{deployment.public_key}/{path}",
            json.dumps(body),
            content_type="text/plain",
            headers={"Origin": origin},
        )
        response.body = (
            b"".join([chunk async for chunk in response.streaming_content]) if response.streaming else response.content
        )
        return response

    return async_to_sync(run)()


def events(response) -> list[tuple[str, dict]]:
    text = response.body.decode()
    found = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.split("\n"))
        found.append((lines["event"], json.loads(lines["data"])))
    return found


def test_an_allowed_page_gets_a_token_and_a_streamed_answer_metered_on_widget(tenant, widget, fake_openai):
    session = call(widget, "session", {})
    assert session.status_code == 200 and session["Access-Control-Allow-Origin"] == SHOP
    token = session.json()["visitor_token"]

    response = call(widget, "messages", {"visitor_token": token, "text": "Do you deliver?"})

    assert response["Content-Type"].startswith("text/event-stream")
    assert response["Access-Control-Allow-Origin"] == SHOP
    found = events(response)
    assert [name for name, _ in found[:-1]] == ["delta"] * (len(found) - 1) and found[-1][0] == "done"
    assert "".join(data["text"] for name, data in found if name == "delta").startswith("echo: Do you deliver?")
    contact = Contact.objects.get()
    assert contact.channel == "widget" and Conversation.objects.get(contact=contact).deployment_id == widget.pk
    assert UsageEvent.objects.get(outcome="ok").channel == "widget"
    # The same browser keeps its token and its conversation.
    assert call(widget, "session", {"visitor_token": token}).json()["visitor_token"] == token
    call(widget, "messages", {"visitor_token": token, "text": "And on Sundays?"})
    assert Conversation.objects.filter(contact=contact).count() == 1 and Contact.objects.count() == 1


def test_another_origin_is_refused_without_cors_headers(tenant, widget, fake_openai):
    token = call(widget, "session", {}).json()["visitor_token"]

    for path, body in (("session", {}), ("messages", {"visitor_token": token, "text": "hi"})):
        response = call(widget, path, body, origin="https://evil.example")
        assert response.status_code == 403 and "Access-Control-Allow-Origin" not in response
    assert call(widget, "session", {}, origin="").status_code == 403
    assert not fake_openai.chat_requests and not Contact.objects.exists()


def test_a_token_of_another_deployment_is_refused(tenant, widget, fake_openai):
    other = DeploymentFactory(organization=tenant.stranger.organization, agent=tenant.sales, allowed_origins=[SHOP])
    foreign = call(other, "session", {}).json()["visitor_token"]

    response = call(widget, "messages", {"visitor_token": foreign, "text": "hi"})

    assert response.status_code == 401 and response.json()["code"] == "invalid_visitor"
    assert not fake_openai.chat_requests


def test_a_visitor_writing_too_fast_is_told_to_wait(tenant, widget, fake_openai, settings, same_rate_window):
    settings.WIDGET_VISITOR_MESSAGES_PER_MINUTE = 2
    token = call(widget, "session", {}).json()["visitor_token"]
    for _ in range(2):
        events(call(widget, "messages", {"visitor_token": token, "text": "hi"}))

    response = call(widget, "messages", {"visitor_token": token, "text": "hi again"})

    assert response.status_code == 429 and response.json()["code"] == "visitor_rate_limited"
    assert "wait a minute" in response.json()["text"]
    assert len(fake_openai.chat_requests) == 2


def test_a_preflight_from_an_allowed_origin_is_answered(tenant, widget):
    response = Client().options(f"/widget/{widget.public_key}/messages", HTTP_ORIGIN=SHOP)

    assert response.status_code == 204 and response["Access-Control-Allow-Origin"] == SHOP


def test_a_used_up_quota_is_a_polite_error_event(tenant, widget, fake_openai):
    tenant.plan.quota_requests = 0
    tenant.plan.save()
    token = call(widget, "session", {}).json()["visitor_token"]

    (event,) = events(call(widget, "messages", {"visitor_token": token, "text": "hi"}))

    assert event == (
        "error",
        {
            "code": "quota_exceeded",
            "text": "Sorry, I cannot answer right now. Please try again later.",
            "partial": False,
        },
    )


def test_a_used_up_quota_tells_the_owner_once_not_per_visitor(tenant, widget, fake_openai, fake_telegram):
    tenant.plan.quota_requests = 1
    tenant.plan.save()
    first = call(widget, "session", {}).json()["visitor_token"]
    second = call(widget, "session", {}).json()["visitor_token"]

    assert events(call(widget, "messages", {"visitor_token": first, "text": "hi"}))[-1][0] == "done"
    for token in (first, second):
        (event,) = events(call(widget, "messages", {"visitor_token": token, "text": "hello?"}))
        assert event[0] == "error" and event[1]["code"] == "quota_exceeded"

    assert len(fake_openai.chat_requests) == 1
    # The owner linked Telegram and reads Russian: one notice through the platform bot, naming the widget
    # (besides the quota's own notice, also sent once).
    quota, notice = fake_telegram.sent_texts(chat_id=tenant.owner.telegram_id, token=fake_telegram.token)
    assert quota.startswith("Квота запросов исчерпана")
    assert f"{tenant.sales.name} в чате на вашем сайте не может отвечать вашим клиентам" in notice
    assert "Квота этого расчётного периода исчерпана." in notice
    assert UsageEvent.objects.filter(outcome="denied", error_code="quota_exceeded", channel="widget").count() == 2


@pytest.mark.parametrize(
    "make_body,field",
    [
        (lambda token: json.dumps({"visitor_token": token, "text": "  "}), "text"),
        (lambda token: json.dumps({"visitor_token": token, "text": "x" * 4001}), "text"),
        (lambda token: "[", None),
    ],
    ids=["empty", "too long", "not json"],
)
def test_a_bad_message_is_a_400_the_page_can_read(tenant, widget, fake_openai, make_body, field):
    token = call(widget, "session", {}).json()["visitor_token"]

    async def run():
        return await AsyncClient().post(
            f"/widget/{widget.public_key}/messages",
            make_body(token),
            content_type="text/plain",
            headers={"Origin": SHOP},
        )

    response = async_to_sync(run)()

    assert response.status_code == 400 and response.json()["code"] == "invalid"
    assert response["Access-Control-Allow-Origin"] == SHOP
    assert field is None or field in response.json()["fields"]
    assert not fake_openai.chat_requests
