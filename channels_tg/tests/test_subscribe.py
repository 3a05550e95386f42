import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from billing.models import AccountStatus, BillingAccount
from billing.tests.account_factories import BillingAccountFactory
from billing.tests.factories import PlanFactory, PlanPriceFactory
from botgeneric.channels import Channel
from channels_tg.tests.conftest import TelegramUser
from tenants.models import Role

pytestmark = pytest.mark.django_db(transaction=True)


def keyboard(call):
    return [(row[0]["text"], row[0]["callback_data"]) for row in call.params["reply_markup"]["inline_keyboard"]]


def press_confirm(feed, fake_telegram, tg_user):
    """Press "Confirm" under the last preview the bot sent."""
    offer = fake_telegram.calls_of("sendMessage")[-1]
    assert keyboard(offer)[0][0] == "Confirm"
    feed(tg_user.press(keyboard(offer)[0][1]))


def test_subscribe_offers_the_plans_sold_for_telegram_with_prices(feed, catalog, fake_telegram, tg_user, settings):
    settings.BILLING_MANUAL_ENABLED = True
    PlanFactory(code="api-only", channels=[Channel.API.value])

    feed(tg_user.text("/subscribe"))

    [offer] = fake_telegram.calls_of("sendMessage")
    assert keyboard(offer) == [
        ("Monthly — 19.99 USD / month", "plan:monthly"),
        ("Premium — 19.99 USD / month", "plan:premium"),
    ]


def test_choosing_a_plan_subscribes_and_its_agents_become_available(feed, catalog, fake_telegram, tg_user, settings):
    settings.BILLING_MANUAL_ENABLED = True
    feed(tg_user.text("/start"))
    fake_telegram.clear()

    feed(tg_user.press("plan:premium"))
    [offer] = fake_telegram.calls_of("sendMessage")
    feed(tg_user.press(keyboard(offer)[0][1]))
    feed(tg_user.text("/agents"))

    *_, done, agents = fake_telegram.calls_of("sendMessage")
    account = BillingAccount.objects.get(organization__members__telegram_id=tg_user.telegram_id)
    assert (account.plan, account.status) == (catalog.premium, AccountStatus.ACTIVE)
    assert done.params["text"].startswith("Done. Your plan: Premium (active, until")
    assert [label for label, _ in keyboard(agents)] == ["Coder", "Lawyer", "Writer"]


def test_subscribe_without_a_payment_provider_says_payments_are_unavailable(
    feed, catalog, fake_telegram, tg_user, settings
):
    settings.BILLING_MANUAL_ENABLED = False

    feed(tg_user.text("/subscribe"))

    assert fake_telegram.sent_texts(tg_user.chat_id) == [
        "Payments are not available right now. Please try again later."
    ]


def test_an_unknown_plan_button_is_explained(feed, catalog, fake_telegram, tg_user, settings):
    settings.BILLING_MANUAL_ENABLED = True

    feed(tg_user.press("plan:no-such-plan"))

    [refusal] = fake_telegram.sent_texts(tg_user.chat_id)
    assert "/subscribe" in refusal


def test_plan_without_any_subscription_points_to_subscribe(feed, fake_telegram, tg_user):
    feed(tg_user.text("/plan"))

    assert fake_telegram.sent_texts(tg_user.chat_id) == ["You have no subscription yet. See the plans with /subscribe."]


def test_sending_too_fast_is_explained_with_the_wait(feed, catalog, fake_telegram, tg_user, settings, same_rate_window):
    settings.DEFAULT_RATE_LIMIT_PER_MINUTE = 1
    feed(tg_user.press(f"agent:{catalog.writer.pk}"))
    fake_telegram.clear()

    feed(tg_user.text("one"))
    feed(tg_user.text("two"))

    answer, refusal = fake_telegram.sent_texts(tg_user.chat_id)
    assert answer == "echo: one"
    assert "too fast" in refusal and "seconds" in refusal


def test_a_paid_plan_answers_with_the_providers_checkout_link(
    feed, catalog, fake_telegram, fake_yookassa, tg_user, settings
):
    settings.BILLING_MANUAL_ENABLED = False
    PlanPriceFactory(plan=catalog.premium, currency="RUB", amount=Decimal("990.00"))
    feed(tg_user.text("/start"))
    fake_telegram.clear()

    feed(tg_user.press("plan:premium"))
    press_confirm(feed, fake_telegram, tg_user)

    _, link = fake_telegram.sent_texts(tg_user.chat_id)
    [payment] = fake_yookassa.payments.values()
    assert payment["confirmation"]["confirmation_url"] in link
    assert payment["confirmation"]["return_url"] == "https://t.me/test_bot"
    account = BillingAccount.objects.get(organization__members__telegram_id=tg_user.telegram_id)
    assert (account.plan, account.status) == (catalog.trial, AccountStatus.TRIALING)


def test_with_several_providers_the_customer_picks_one(feed, catalog, fake_telegram, fake_yookassa, tg_user, settings):
    settings.BILLING_MANUAL_ENABLED = True
    PlanPriceFactory(plan=catalog.premium, currency="RUB", amount=Decimal("990.00"))

    feed(tg_user.press("plan:premium"))

    [offer] = fake_telegram.calls_of("sendMessage")
    assert keyboard(offer) == [("Manual", "pay:premium:manual"), ("YooKassa", "pay:premium:yookassa")]

    feed(tg_user.press("pay:premium:yookassa"))
    press_confirm(feed, fake_telegram, tg_user)

    assert "yoomoney.test" in fake_telegram.sent_texts(tg_user.chat_id)[-1]


def test_plan_buttons_show_the_usd_price_when_there_are_several(feed, catalog, fake_telegram, tg_user, settings):
    settings.BILLING_MANUAL_ENABLED = True
    PlanPriceFactory(plan=catalog.premium, currency="RUB", amount=Decimal("990.00"))

    feed(tg_user.text("/subscribe"))

    [offer] = fake_telegram.calls_of("sendMessage")
    assert ("Premium — 19.99 USD / month", "plan:premium") in keyboard(offer)


def test_a_member_pressing_a_forged_pay_button_is_refused_and_the_plan_stays(
    feed, catalog, fake_telegram, tg_user, settings
):
    """Issue 11 #13: the billing service checks the role, so a button the bot never offered a member
    (`pay:<plan>:manual`, forged by the client) cannot replace the organization's subscription."""
    settings.BILLING_MANUAL_ENABLED = True
    owner = UserFactory()
    account = BillingAccountFactory(organization=owner.organization, plan=catalog.trial, status=AccountStatus.TRIALING)
    UserFactory(organization=owner.organization, role=Role.MEMBER, telegram_id=tg_user.telegram_id)

    feed(tg_user.press("pay:premium:manual"))

    assert fake_telegram.sent_texts(tg_user.chat_id) == [
        "Only the organization's owner or an admin can change the plan or payments."
    ]
    account.refresh_from_db()
    assert (account.plan, account.status) == (catalog.trial, AccountStatus.TRIALING)


def test_a_hung_payment_provider_is_explained_and_nothing_is_charged(
    feed, catalog, fake_telegram, fake_yookassa, tg_user, settings
):
    """Issue 11 #3: the provider call has a timeout; the bot says so instead of hanging."""
    settings.BILLING_MANUAL_ENABLED = False
    settings.PROVIDER_HTTP_TIMEOUT_SECONDS = 0.5
    PlanPriceFactory(plan=catalog.premium, currency="RUB", amount=Decimal("990.00"))
    fake_yookassa.hang_seconds = 10

    feed(tg_user.press("plan:premium"))
    press_confirm(feed, fake_telegram, tg_user)

    assert fake_telegram.sent_texts(tg_user.chat_id)[1:] == [
        "The payment service did not answer in time. Nothing was charged; please try again."
    ]


def test_plan_after_a_failed_renewal_says_until_when_access_lasts_and_where_to_pay(
    feed, catalog, fake_telegram, tg_user, settings
):
    settings.BILLING_GRACE_DAYS = 3
    feed(tg_user.text("/start"))
    BillingAccount.objects.update(status=AccountStatus.PAST_DUE, past_due_since=datetime(2030, 1, 1, 12, 0, tzinfo=UTC))
    fake_telegram.clear()

    feed(tg_user.text("/plan"))

    [status] = fake_telegram.sent_texts(tg_user.chat_id)
    assert status.startswith("⚠️ The renewal payment failed. You keep access until 2030-01-04 12:00 UTC")
    assert "http://127.0.0.1:8000/billing/" in status and "/subscribe" in status


def test_the_bot_shows_what_a_plan_change_does_before_it_is_made(feed, catalog, fake_telegram, tg_user, settings):
    """Issue 18 #2: the same preview as the dashboard, and nothing changes before "Confirm"."""
    settings.BILLING_MANUAL_ENABLED = True
    feed(tg_user.text("/start"))
    account = BillingAccount.objects.get(organization__members__telegram_id=tg_user.telegram_id)
    fake_telegram.clear()

    feed(tg_user.press("plan:premium"))

    [offer] = fake_telegram.calls_of("sendMessage")
    days = math.ceil((account.trial_end - timezone.now()) / timedelta(days=1))
    assert offer.params["text"].splitlines()[:3] == [
        "Subscribe to Premium",
        "Price: 19.99 USD",
        "Charged now: 19.99 USD",
    ]
    assert f"{days} trial days are kept." in offer.params["text"]
    assert [label for label, _ in keyboard(offer)] == ["Confirm", "Not now"]
    account.refresh_from_db()
    assert (account.plan, account.status) == (catalog.trial, AccountStatus.TRIALING)

    press_confirm(feed, fake_telegram, tg_user)

    account.refresh_from_db()
    assert (account.plan, account.status) == (catalog.premium, AccountStatus.ACTIVE)
    assert account.current_period_end > account.trial_end


def test_the_preview_speaks_russian_to_a_russian_user(feed, catalog, fake_telegram, settings):
    settings.BILLING_MANUAL_ENABLED = True
    russian = TelegramUser(telegram_id=777, language_code="ru")
    feed(russian.text("/start"))
    fake_telegram.clear()

    feed(russian.press("plan:premium"))

    [offer] = fake_telegram.calls_of("sendMessage")
    assert offer.params["text"].startswith(f"Подписка на {catalog.premium.name_ru}")
    assert [label for label, _ in keyboard(offer)] == ["Подтвердить", "Не сейчас"]


def test_not_now_changes_nothing(feed, catalog, fake_telegram, tg_user, settings):
    settings.BILLING_MANUAL_ENABLED = True
    feed(tg_user.text("/start"))
    feed(tg_user.press("plan:premium"))
    fake_telegram.clear()

    feed(tg_user.press("dismiss:"))

    assert fake_telegram.sent_texts(tg_user.chat_id) == ["Nothing was changed. /subscribe shows the plans again."]
    account = BillingAccount.objects.get(organization__members__telegram_id=tg_user.telegram_id)
    assert account.plan == catalog.trial


def test_a_confirm_button_outdated_by_a_change_is_refused(feed, catalog, fake_telegram, tg_user, settings):
    settings.BILLING_MANUAL_ENABLED = True
    feed(tg_user.text("/start"))
    feed(tg_user.press("plan:premium"))
    catalog.premium.prices.update(amount=Decimal("29.99"))
    fake_telegram.clear()

    press_confirm_data = "confirm:" + "x" * 11
    feed(tg_user.press(press_confirm_data))
    [expired] = fake_telegram.sent_texts(tg_user.chat_id)
    assert "/subscribe" in expired

    feed(tg_user.press("plan:premium"))
    stale_offer = fake_telegram.calls_of("sendMessage")[-1]
    catalog.premium.prices.update(amount=Decimal("39.99"))
    feed(tg_user.press(keyboard(stale_offer)[0][1]))

    assert fake_telegram.sent_texts(tg_user.chat_id)[-1] == (
        "Your subscription or the prices changed since you saw them. Please choose the plan again with /subscribe."
    )
    account = BillingAccount.objects.get(organization__members__telegram_id=tg_user.telegram_id)
    assert account.plan == catalog.trial
