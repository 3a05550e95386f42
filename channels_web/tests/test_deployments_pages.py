"""Issue 15 on the dashboard: the deployments page lists the organization's bots and widgets; owners and
admins deploy (a bot token is never shown back; a widget shows the code to embed), pause, resume and
delete (after a confirmation); members only look; a plan without deployments shows an upgrade prompt."""

import re

import pytest
from django.test import Client

from accounts.tests.factories import UserFactory
from deployments.models import Deployment
from deployments.tests.conftest import SHOP_BOT_TOKEN
from deployments.tests.factories import DeploymentFactory
from tenants.models import AuditEvent

pytestmark = pytest.mark.django_db


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def owner(tenant):
    tenant.owner.locale = "en"
    tenant.owner.save(update_fields=["locale"])
    return browser(tenant.owner)


@pytest.fixture
def member(tenant):
    return browser(UserFactory(organization=tenant.owner.organization, role="member", locale="en"))


def create_widget(page, tenant, origins="https://shop.example.com\nhttps://www.shop.example.com/"):
    return page.post(
        "/deployments/new/",
        {"channel": "widget", "widget-agent": tenant.sales.pk, "widget-allowed_origins": origins},
    )


def test_the_navigation_links_deployments_clients_and_leads(owner):
    page = owner.get("/dashboard/").content.decode()

    for path in ("/deployments/", "/clients/", "/leads/"):
        assert f'href="{path}"' in page


def test_an_owner_creates_a_widget_and_gets_the_code_to_embed(owner, tenant):
    response = create_widget(owner, tenant)

    deployment = Deployment.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"#deployment-{deployment.pk}")
    assert deployment.allowed_origins == ["https://shop.example.com", "https://www.shop.example.com"]
    page = owner.get("/deployments/").content.decode()
    snippet = (
        f'&lt;script src="http://testserver/static/widget/widget.js" data-deployment="{deployment.public_key}" '
        "async&gt;&lt;/script&gt;"
    )
    assert snippet in page
    assert AuditEvent.objects.filter(action="deployment.created", actor=tenant.owner).exists()


def test_a_bad_origin_is_shown_next_to_its_field(owner, tenant):
    response = create_widget(owner, tenant, origins="https://shop.example.com/checkout")

    assert response.status_code == 400
    errors = response.context["widget_form"].errors
    assert list(errors) == ["allowed_origins"] and "https://shop.example.com" in errors["allowed_origins"][0]
    assert not Deployment.objects.exists()


def test_connecting_a_bot_never_shows_its_token_again(owner, tenant, fake_telegram):
    response = owner.post(
        "/deployments/new/",
        {"channel": "telegram", "telegram-agent": tenant.sales.pk, "telegram-telegram_bot_token": SHOP_BOT_TOKEN},
        follow=True,
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "@shop_bot" in page and SHOP_BOT_TOKEN not in page
    assert fake_telegram.calls_of("setWebhook", SHOP_BOT_TOKEN)


def test_a_refused_token_is_not_echoed_into_the_form(owner, tenant, fake_telegram):
    unknown = "5550002:UNKNOWN-token-abcdefghijklmn"

    response = owner.post(
        "/deployments/new/",
        {"channel": "telegram", "telegram-agent": tenant.sales.pk, "telegram-telegram_bot_token": unknown},
    )

    assert response.status_code == 400
    assert "telegram_bot_token" in response.context["telegram_form"].errors
    assert unknown not in response.content.decode()
    assert not Deployment.objects.exists()


def test_pausing_and_resuming(owner, tenant):
    deployment = DeploymentFactory(organization=tenant.owner.organization, agent=tenant.sales, created_by=tenant.owner)

    owner.post(f"/deployments/{deployment.pk}/status/", {"status": "paused"})
    deployment.refresh_from_db()
    assert deployment.status == "paused"
    assert "Resume" in owner.get("/deployments/").content.decode()

    owner.post(f"/deployments/{deployment.pk}/status/", {"status": "active"})
    deployment.refresh_from_db()
    assert deployment.status == "active"
    assert AuditEvent.objects.filter(action="deployment.changed").count() == 2


def test_deleting_asks_first_then_disconnects_the_bot(owner, tenant, fake_telegram):
    owner.post(
        "/deployments/new/",
        {"channel": "telegram", "telegram-agent": tenant.sales.pk, "telegram-telegram_bot_token": SHOP_BOT_TOKEN},
    )
    deployment = Deployment.objects.get()

    confirmation = owner.get(f"/deployments/{deployment.pk}/delete/")
    assert confirmation.status_code == 200 and "@shop_bot" in confirmation.content.decode()
    assert Deployment.objects.exists()

    assert owner.post(f"/deployments/{deployment.pk}/delete/").status_code == 302
    assert not Deployment.objects.exists()
    assert fake_telegram.calls_of("deleteWebhook", SHOP_BOT_TOKEN)


def test_a_member_sees_deployments_but_cannot_change_them(member, tenant):
    deployment = DeploymentFactory(organization=tenant.owner.organization, agent=tenant.sales)

    page = member.get("/deployments/").content.decode()
    assert deployment.public_key in page
    assert 'id="new-widget"' not in page and "/status/" not in page and 'id="managers-only"' in page

    refused = create_widget(member, tenant)
    assert (
        refused.status_code == 403 and "Your role in the organization does not allow this." in refused.content.decode()
    )
    member.post(f"/deployments/{deployment.pk}/status/", {"status": "paused"})
    member.post(f"/deployments/{deployment.pk}/delete/")
    assert Deployment.objects.filter(status="active").count() == 1


def test_another_organizations_deployment_is_404(owner, tenant):
    theirs = DeploymentFactory(organization=tenant.stranger.organization, agent=tenant.sales)

    assert owner.post(f"/deployments/{theirs.pk}/status/", {"status": "paused"}).status_code == 404
    assert owner.get(f"/deployments/{theirs.pk}/delete/").status_code == 404
    assert owner.post(f"/deployments/{theirs.pk}/delete/").status_code == 404
    assert theirs.public_key not in owner.get("/deployments/").content.decode()
    assert Deployment.objects.filter(pk=theirs.pk, status="active").exists()


def test_a_plan_without_deployments_shows_an_upgrade_prompt_not_an_error(owner, tenant):
    account = tenant.owner.organization.billing_account
    account.plan = tenant.basic
    account.save()

    response = owner.get("/deployments/")

    assert response.status_code == 200
    page = response.content.decode()
    prompt = re.search(r'<div class="alert warning" role="status" id="upgrade">(.*?)</div>', page, re.S).group(1)
    assert tenant.plan.name in prompt and 'href="/billing/"' in prompt
    assert 'id="new-widget"' not in page
    assert create_widget(owner, tenant).status_code == 403
    assert not Deployment.objects.exists()


def test_the_pages_speak_russian(tenant):
    page = browser(tenant.owner).get("/deployments/").content.decode()

    assert "Развёртывания" in page and "Подключить бота" in page


def test_only_the_channels_the_plan_allows_are_offered(owner, tenant):
    tenant.plan.channels = ["web", "telegram"]
    tenant.plan.save()

    page = owner.get("/deployments/").content.decode()

    assert 'id="new-telegram"' in page and 'id="new-widget"' not in page
