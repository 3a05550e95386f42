"""Issue 19, the billing page: grouped numbers, the plan's interval, meter levels, no one-option select,
no past period end, no Resume on a granted plan."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from billing.models import AccountStatus, BillingAccount, Interval
from billing.services import grant_plan
from billing.tests.account_factories import BillingAccountFactory, PaymentFactory
from billing.tests.factories import PlanFactory
from channels_web.tests.confirming import confirmed_post
from usage.models import PeriodCounter

pytestmark = pytest.mark.django_db


@pytest.fixture
def monthly(agent):
    return PlanFactory(
        code="monthly",
        name="Monthly",
        interval=Interval.MONTH,
        agents=[agent],
        quota_requests=10000,
        quota_tokens_input=5_000_000,
        usd_price__amount=Decimal("1234.5"),
    )


@pytest.fixture
def operator(db):
    return UserFactory(is_staff=True, is_superuser=True)


def _use(account, **used):
    PeriodCounter.objects.create(
        account=account, period_start=account.current_period_start, period_end=account.current_period_end, **used
    )


def test_numbers_use_the_languages_grouping_and_quotas_name_the_interval(web_client, user, monthly):
    account = BillingAccountFactory(organization=user.organization, plan=monthly)
    _use(account, requests=1234)
    PaymentFactory(account=account, plan=monthly, amount=Decimal("1234.50"))

    english = web_client.get("/billing/").content.decode()
    user.locale = "ru"
    user.save()
    russian = web_client.get("/billing/").content.decode()

    assert "10,000 requests per month" in english and "per period" not in english
    assert "1,234 of 10,000" in english and "0 of 5,000,000" in english
    assert "1,234.50 USD" in english
    assert "10\xa0000 запросов в месяц" in russian
    assert "1\xa0234 из 10\xa0000" in russian
    assert "1\xa0234,50 USD" in russian


@pytest.mark.parametrize(("used", "level"), [(79, None), (80, "warn"), (99, "warn"), (100, "full"), (130, "full")])
def test_the_meter_warns_from_80_percent_and_alerts_at_100(web_client, user, plan, used, level):
    account = BillingAccountFactory(organization=user.organization, plan=plan)  # 100 requests
    _use(account, requests=used)

    content = web_client.get("/billing/").content.decode()

    bar = content[content.index('<progress id="meter-requests"') :].split(">", 1)[0]
    if level is None:
        assert "class=" not in bar
    else:
        assert f'class="meter-{level}"' in bar
    assert f'value="{min(used, 100)}"' in bar


def test_one_enabled_provider_is_no_select(web_client, user, plan, monthly):
    BillingAccountFactory(organization=user.organization, plan=plan)

    content = web_client.get("/billing/").content.decode()

    assert '<input type="hidden" name="provider" value="manual">' in content
    assert "<select" not in content and "Pay with" not in content


def test_an_immediate_cancel_shows_no_past_period_end(web_client, user, plan):
    BillingAccountFactory(organization=user.organization, plan=plan)

    confirmed_post(web_client, {"cancel": "now"})
    content = web_client.get("/billing/").content.decode()

    assert BillingAccount.objects.get(organization=user.organization).status == AccountStatus.CANCELED
    assert "Current period ends" not in content
    assert "Resume subscription" not in content


def test_a_plan_granted_by_support_offers_no_resume(web_client, user, plan, monthly, operator):
    BillingAccountFactory(organization=user.organization, plan=plan)
    grant_plan(organization=user.organization, plan=monthly, periods=1, actor=operator)

    content = web_client.get("/billing/").content.decode()
    web_client.post("/billing/resume/")

    assert "granted by support" in content
    assert "Resume subscription" not in content and "set to end" not in content
    assert "Current period ends" in content
    assert BillingAccount.objects.get(organization=user.organization).cancel_at_period_end


def test_a_canceled_paid_plan_still_offers_resume(web_client, user, plan):
    BillingAccountFactory(
        organization=user.organization, plan=plan, current_period_end=timezone.now() + timedelta(days=3)
    )

    web_client.post("/billing/cancel/")

    assert "Resume subscription" in web_client.get("/billing/").content.decode()


def test_without_a_payment_provider_the_page_says_whom_to_write_to(web_client, user, plan, monthly, settings):
    settings.BILLING_MANUAL_ENABLED = False
    settings.SUPPORT_EMAIL = "billing@acme.test"
    BillingAccountFactory(organization=user.organization, plan=plan)

    content = web_client.get("/billing/").content.decode()

    assert 'action="/billing/confirm/"' not in content
    assert 'To change your plan, write to <a href="mailto:billing@acme.test">billing@acme.test</a>.' in content


def test_without_a_payment_provider_or_a_support_address_the_page_says_to_contact_the_operator(
    web_client, user, plan, monthly, settings
):
    settings.BILLING_MANUAL_ENABLED = False
    settings.SUPPORT_EMAIL = ""
    BillingAccountFactory(organization=user.organization, plan=plan)

    assert "contact the operator of this service" in web_client.get("/billing/").content.decode()


def test_make_run_writes_an_env_that_enables_the_manual_provider(tmp_path):
    """The local demo (`make run`) can be walked end to end: its plans are taken without a payment provider."""
    import subprocess

    from django.conf import settings as django_settings

    makefile = django_settings.BASE_DIR / "Makefile"
    subprocess.run(["make", "-s", "-f", str(makefile), ".env"], cwd=tmp_path, check=True, timeout=60)

    lines = (tmp_path / ".env").read_text().splitlines()
    assert "BILLING_MANUAL_ENABLED=1" in lines and "HTTPS_ONLY=0" in lines
