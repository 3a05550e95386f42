"""Issue 18 #2 on the dashboard: the confirm page between choosing a change and making it, and the
button that undoes a scheduled downgrade."""

from decimal import Decimal

import pytest

from accounts.tests.factories import UserFactory
from billing.models import AccountStatus, BillingAccount, PlanPrice
from billing.tests.account_factories import BillingAccountFactory
from billing.tests.factories import PlanFactory
from channels_web.tests.confirming import CONFIRMATION, confirm_page, confirmed_post
from tenants.models import AuditEvent, Role

pytestmark = pytest.mark.django_db

UPGRADE = {"plan": "yearly", "provider": "manual", "currency": "USD"}


@pytest.fixture
def plans(agent):
    monthly = PlanFactory(code="monthly", name="Monthly", name_ru="Месячный", agents=[agent])
    yearly = PlanFactory(code="yearly", name="Yearly", name_ru="Годовой", interval="year", agents=[agent])
    PlanPrice.objects.filter(plan=yearly).update(amount=Decimal("199.99"))
    return monthly, yearly


def test_the_plan_buttons_lead_to_the_confirm_page_which_changes_nothing(web_client, user, plans):
    monthly, yearly = plans
    account = BillingAccountFactory(organization=user.organization, plan=monthly)

    billing = web_client.get("/billing/").content.decode()
    page = confirm_page(web_client, UPGRADE)

    assert 'action="/billing/confirm/"' in billing and 'method="get"' in billing
    content = page.content.decode()
    assert page.status_code == 200
    assert "Upgrade to Yearly" in content
    assert 'id="preview-price">199.99 USD' in content
    assert CONFIRMATION.search(content)
    account.refresh_from_db()
    assert account.plan == monthly


def test_confirming_makes_the_change(web_client, user, plans):
    monthly, yearly = plans
    BillingAccountFactory(organization=user.organization, plan=monthly)

    response = confirmed_post(web_client, UPGRADE)

    assert (response.status_code, response["Location"]) == (302, "/billing/")
    assert BillingAccount.objects.get(organization=user.organization).plan == yearly


def test_a_stale_confirmation_shows_the_confirm_page_again(web_client, user, plans):
    monthly, yearly = plans
    BillingAccountFactory(organization=user.organization, plan=monthly)
    token = CONFIRMATION.search(confirm_page(web_client, UPGRADE).content.decode()).group(1)
    PlanPrice.objects.filter(plan=yearly).update(amount=Decimal("249.99"))

    response = web_client.post("/billing/subscribe/", {**UPGRADE, "confirmation": token})

    assert response.status_code == 302
    assert response["Location"].startswith("/billing/confirm/?plan=yearly")
    page = web_client.get(response["Location"]).content.decode()
    assert "prices changed since you reviewed" in page and 'id="preview-price">249.99 USD' in page
    assert BillingAccount.objects.get(organization=user.organization).plan == monthly


def test_a_change_posted_without_the_confirm_page_is_refused(web_client, user, plans):
    monthly, _ = plans
    BillingAccountFactory(organization=user.organization, plan=monthly)

    web_client.post("/billing/subscribe/", UPGRADE)

    assert "confirm it on the confirmation page" in web_client.get("/billing/").content.decode()
    assert BillingAccount.objects.get(organization=user.organization).plan == monthly


def test_cancelling_now_shows_what_is_lost_first(web_client, user, plans):
    _, yearly = plans
    BillingAccountFactory(organization=user.organization, plan=yearly)

    content = confirm_page(web_client, {"cancel": "now"}).content.decode()

    assert "Cancel Yearly now" in content and 'id="preview-lost"' in content
    assert "Nothing is refunded." in content
    confirmed_post(web_client, {"cancel": "now"})
    assert BillingAccount.objects.get(organization=user.organization).status == AccountStatus.CANCELED


def test_the_owner_undoes_a_scheduled_downgrade_with_a_button(web_client, user, plans):
    monthly, yearly = plans
    BillingAccountFactory(organization=user.organization, plan=yearly, scheduled_plan=monthly)

    content = web_client.get("/billing/").content.decode()
    web_client.post("/billing/undo-downgrade/")

    assert 'id="undo-downgrade">Keep Yearly' in content
    assert BillingAccount.objects.get(organization=user.organization).scheduled_plan is None
    assert AuditEvent.objects.filter(organization=user.organization, action="subscription.downgrade_canceled")
    assert "the scheduled change was undone" in web_client.get("/billing/").content.decode()


def test_a_member_gets_no_confirm_page_and_no_undo(client, user, plans):
    monthly, yearly = plans
    BillingAccountFactory(organization=user.organization, plan=yearly, scheduled_plan=monthly)
    client.force_login(UserFactory(organization=user.organization, role=Role.MEMBER))

    assert 'id="undo-downgrade"' not in client.get("/billing/").content.decode()
    assert confirm_page(client, UPGRADE).status_code == 403
    assert client.post("/billing/undo-downgrade/").status_code == 403


def test_the_confirm_page_in_russian(web_client, user, plans):
    monthly, _ = plans
    BillingAccountFactory(organization=user.organization, plan=monthly)
    user.locale = "ru"
    user.save()

    content = confirm_page(web_client, UPGRADE).content.decode()

    assert "Подтверждение изменения" in content and "Годовой" in content and "Спишется сейчас" in content
