from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from billing.models import AccountStatus, BillingAccount, PlanPrice
from billing.tests.account_factories import BillingAccountFactory, PaymentFactory
from billing.tests.factories import PlanFactory
from channels_web.tests.confirming import confirmed_post
from tenants.models import AuditEvent, Role
from usage.models import PeriodCounter

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-unusual-passphrase-42"


@pytest.fixture
def monthly(agent):
    plan = PlanFactory(code="monthly", name="Monthly", agents=[agent], quota_requests=10000, trial_days=14)
    PlanPrice.objects.create(plan=plan, currency="RUB", amount=Decimal("990.00"))
    return plan


@pytest.fixture
def weekly(agent):
    return PlanFactory(code="weekly", name="Weekly", agents=[agent], usd_price__amount=Decimal("4.99"))


def test_plans_are_priced_in_the_accounts_currency(web_client, user, monthly):
    BillingAccountFactory(organization=user.organization, plan=monthly, currency="RUB")

    content = web_client.get("/billing/").content.decode()

    assert "990.00 RUB" in content
    assert "19.99 USD" not in content


def test_page_shows_plan_status_and_period_end(web_client, user, plan):
    BillingAccountFactory(organization=user.organization, plan=plan)

    response = web_client.get("/billing/")

    content = response.content.decode()
    assert response.status_code == 200
    assert '<strong id="current-plan">Daily</strong>' in content
    assert '<span class="status" id="account-status">Active</span>' in content
    assert "Current period ends" in content


def test_a_web_signup_is_on_the_trial_with_days_left(client, monthly):
    client.post("/accounts/signup/", {"email": "trial@example.com", "password1": PASSWORD, "password2": PASSWORD})

    content = client.get("/billing/").content.decode()

    assert '<span class="status" id="account-status">Trial</span>' in content
    assert "14 days left in your trial." in content


def test_usage_meters_show_used_against_the_limit(web_client, user, plan):
    account = BillingAccountFactory(organization=user.organization, plan=plan)
    PeriodCounter.objects.create(
        account=account, period_start=account.current_period_start, period_end=account.current_period_end, requests=40
    )

    content = web_client.get("/billing/").content.decode()

    assert "40 of 100" in content
    assert '<progress id="meter-requests" max="100" value="40">' in content


def test_payment_history_lists_only_this_organizations_payments(web_client, user, plan):
    account = BillingAccountFactory(organization=user.organization, plan=plan)
    PaymentFactory(account=account, amount=Decimal("12.34"), plan=plan)
    PaymentFactory(amount=Decimal("56.78"))

    content = web_client.get("/billing/").content.decode()

    assert "12.34 USD" in content
    assert "56.78" not in content


def test_members_see_the_page_without_action_buttons(client, user, plan, weekly):
    BillingAccountFactory(organization=user.organization, plan=plan)
    member = UserFactory(organization=user.organization, role=Role.MEMBER)
    client.force_login(member)

    content = client.get("/billing/").content.decode()

    assert "Daily" in content
    assert "/billing/subscribe/" not in content and "/billing/confirm/" not in content
    assert "/billing/cancel/" not in content
    assert client.post("/billing/subscribe/", {"plan": weekly.code, "provider": "manual"}).status_code == 403
    assert client.post("/billing/cancel/").status_code == 403


def test_owner_sees_upgrade_and_downgrade(web_client, user, monthly, weekly, yearly):
    BillingAccountFactory(organization=user.organization, plan=monthly)
    yearly.prices.update(amount=Decimal("199.99"))

    content = web_client.get("/billing/").content.decode()

    weekly_card = content[content.index('id="plan-weekly"') :]
    yearly_card = content[content.index('id="plan-yearly"') :]
    assert "Downgrade" in weekly_card[: weekly_card.index("</article>")]
    assert "Upgrade" in yearly_card[: yearly_card.index("</article>")]


def test_subscribing_with_the_manual_provider_activates_the_plan(web_client, user, plan, weekly):
    BillingAccountFactory(
        organization=user.organization,
        plan=plan,
        status=AccountStatus.EXPIRED,
        current_period_end=timezone.now() - timedelta(days=1),
    )

    response = confirmed_post(web_client, {"plan": "weekly", "provider": "manual", "currency": "USD"})

    assert response.status_code == 302
    assert response["Location"] == "/billing/"
    account = BillingAccount.objects.get(organization=user.organization)
    assert (account.plan, account.status) == (weekly, AccountStatus.ACTIVE)
    assert "Your subscription is active." in web_client.get("/billing/").content.decode()


def test_subscribing_to_an_unknown_plan_says_so(web_client, user, plan):
    BillingAccountFactory(organization=user.organization, plan=plan)

    web_client.post("/billing/subscribe/", {"plan": "platinum", "provider": "manual"})

    assert "That plan is not offered any more." in web_client.get("/billing/").content.decode()


def test_cancel_at_period_end_then_resume(web_client, user, plan):
    BillingAccountFactory(organization=user.organization, plan=plan)

    web_client.post("/billing/cancel/")
    account = BillingAccount.objects.get(organization=user.organization)
    assert account.cancel_at_period_end
    assert "Resume subscription" in web_client.get("/billing/").content.decode()

    web_client.post("/billing/resume/")
    account.refresh_from_db()
    assert not account.cancel_at_period_end
    assert AuditEvent.objects.filter(organization=user.organization, action__startswith="subscription.").count() == 2


def test_cancel_immediately_ends_the_subscription(web_client, user, plan):
    BillingAccountFactory(organization=user.organization, plan=plan)

    confirmed_post(web_client, {"cancel": "now"})

    account = BillingAccount.objects.get(organization=user.organization)
    assert account.status in (AccountStatus.CANCELED, AccountStatus.EXPIRED)


def test_billing_actions_need_post(web_client):
    assert web_client.get("/billing/subscribe/").status_code == 405
    assert web_client.get("/billing/cancel/").status_code == 405


def test_billing_page_in_russian_uses_the_russian_plan_name(web_client, user, plan):
    BillingAccountFactory(organization=user.organization, plan=plan)
    plan.name_ru = "Дневной"
    plan.save()
    user.locale = "ru"
    user.save()

    content = web_client.get("/billing/").content.decode()

    assert '<strong id="current-plan">Дневной</strong>' in content
    assert "Оплата" in content


def test_billing_page_query_count(web_client, user, plan, monthly, weekly, yearly, django_assert_max_num_queries):
    account = BillingAccountFactory(organization=user.organization, plan=plan)
    for _ in range(5):
        PaymentFactory(account=account, plan=plan)

    # 12 = 11 + the policy rules' version token (policy.rules_cache), read at most every POLL_SECONDS.
    with django_assert_max_num_queries(12):
        web_client.get("/billing/")


def test_paying_provider_redirects_to_its_checkout_and_changes_nothing_yet(
    web_client, user, plan, monthly, fake_yookassa
):
    account = BillingAccountFactory(organization=user.organization, plan=plan, currency="RUB")

    response = confirmed_post(web_client, {"plan": "monthly", "provider": "yookassa", "currency": "RUB"})

    assert response.status_code == 302
    payment = next(iter(fake_yookassa.payments.values()))
    assert response["Location"] == payment["confirmation"]["confirmation_url"]
    assert payment["confirmation"]["return_url"].endswith("/billing/")
    account.refresh_from_db()
    assert account.plan == plan
