"""/register in the bot attaches an unverified address (issue #8 items 1 and 2)."""

import re

import pytest
from allauth.socialaccount.models import SocialAccount
from django.test import Client

from accounts.models import User
from channels_web.tests.test_social_signin import google_sign_in
from testing.fakes.oidc_provider import Person

pytestmark = pytest.mark.django_db(transaction=True)


def test_register_mails_a_link_that_verifies_the_address(feed, fake_telegram, tg_user, mailoutbox):
    feed(tg_user.text("/register ann@example.com"))

    assert mailoutbox[-1].to == ["ann@example.com"]
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+)", mailoutbox[-1].body).group(1)
    Client().post(link)
    assert User.objects.get(telegram_id=tg_user.telegram_id).email_verified


def test_google_login_with_an_address_attached_in_the_bot_does_not_enter_that_account(
    feed, fake_telegram, tg_user, fake_google
):
    feed(tg_user.text("/register victim@example.com"))
    bot_account = User.objects.get(telegram_id=tg_user.telegram_id)
    fake_google.person = Person(email="victim@example.com")

    browser = Client()
    google_sign_in(browser, fake_google)

    assert not SocialAccount.objects.filter(user=bot_account).exists()
    assert browser.session.get("_auth_user_id") != str(bot_account.pk)


def test_an_address_attached_in_the_bot_gets_no_second_trial_on_the_api(feed, fake_telegram, tg_user, catalog):
    feed(tg_user.text("/start"), tg_user.text("/register ann.lee+bot@gmail.com"))

    response = Client().post(
        "/api/v1/auth/register",
        {"email": "annlee@gmail.com", "password": "correct-horse-battery-9"},
        content_type="application/json",
    )

    assert response.status_code == 201
    assert response.json()["trial"]["granted"] is False


def test_a_telegram_account_is_not_held_to_the_unverified_cap(
    feed, fake_telegram, tg_user, catalog, settings, fake_openai
):
    settings.TRIAL_UNVERIFIED_REQUESTS = 1
    feed(tg_user.text("/start"))
    feed(tg_user.press(f"agent:{catalog.writer.pk}"))
    feed(tg_user.text("first"))
    feed(tg_user.text("second"))

    assert len(fake_openai.requests) == 2
    assert not any("verified" in reply for reply in fake_telegram.sent_texts(tg_user.chat_id))
    assert User.objects.get(telegram_id=tg_user.telegram_id).organization.billing_account.status == "trialing"
