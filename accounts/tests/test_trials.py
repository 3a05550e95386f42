"""One free trial per person (issue #8 item 2): per normalized e-mail and per Telegram id, across
organizations; an unverified trial is capped until its owner clicks the link; sign-ups per client IP
are limited on the API and the web together."""

import re

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from accounts.models import User
from agents.models import Message
from agents.tests.factories import AgentFactory
from billing.models import AccountStatus, BillingAccount, Plan
from billing.tests.factories import PlanFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-9"


@pytest.fixture
def trial_agent(settings):
    agent = AgentFactory(with_prompt=True)
    PlanFactory(code=settings.TRIAL_PLAN, trial_days=14, agents=[agent])
    return agent


def register(client, email, **headers):
    return client.post("/api/v1/auth/register", {"email": email, "password": PASSWORD}, format="json", **headers)


def signed_in(api_client, email):
    tokens = api_client.post("/api/v1/auth/login", {"email": email, "password": PASSWORD}, format="json").json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    return api_client


def has_trial(email) -> bool:
    account = BillingAccount.objects.filter(organization__members__email=email).first()
    return account is not None and account.status == AccountStatus.TRIALING


@pytest.mark.parametrize(
    ("first", "again"),
    [
        ("ann.smith@gmail.com", "annsmith+second@googlemail.com"),
        ("bob@example.com", "bob+work@example.com"),
        ("carl@example.com", "CARL@example.com"),
    ],
)
def test_one_trial_per_normalized_email(api_client, trial_agent, first, again):
    assert register(api_client, first).json()["trial"]["granted"] is True
    if again.lower() == first:
        User.objects.filter(email=first).delete()  # the first account is gone; its trial is not reset

    second = register(api_client, again)

    assert second.status_code == 201
    assert second.json()["trial"]["granted"] is False
    assert "already had its free trial" in second.json()["trial"]["detail"]
    assert not has_trial(again.lower())


def test_different_people_each_get_a_trial(api_client, trial_agent):
    register(api_client, "one@example.com")
    register(api_client, "two@example.com")

    assert has_trial("one@example.com") and has_trial("two@example.com")


@override_settings(TRIAL_UNVERIFIED_REQUESTS=2)
def test_an_unverified_trial_is_capped_until_the_email_is_verified(api_client, trial_agent):
    register(api_client, "new@example.com")
    client = signed_in(api_client, "new@example.com")
    url = f"/api/v1/agents/{trial_agent.pk}/invoke"
    assert [client.post(url, {"input": "hi"}, format="json").status_code for _ in range(2)] == [200, 200]

    refused = client.post(url, {"input": "hi"}, format="json")

    assert refused.status_code == 403
    assert refused.json()["code"] == "email_unverified"
    assert "link we e-mailed" in refused.json()["detail"]
    call_command("verify_email", "NEW@example.com")
    assert client.post(url, {"input": "hi"}, format="json").status_code == 200


@override_settings(TRIAL_UNVERIFIED_REQUESTS=1)
def test_the_dashboard_says_how_to_verify(trial_agent):
    browser = Client()
    browser.post("/accounts/signup/", {"email": "web@example.com", "password1": PASSWORD, "password2": PASSWORD})
    browser.post("/dashboard/", {"agent": trial_agent.pk, "input": "first"})

    page = browser.post("/dashboard/", {"agent": trial_agent.pk, "input": "second"}).content.decode()

    assert "until your e-mail address is verified" in page
    assert 'href="/accounts/email/"' in page


@override_settings(TRIAL_UNVERIFIED_REQUESTS=1)
def test_a_resent_link_from_the_email_page_lifts_the_cap(trial_agent, mailoutbox):
    browser = Client()
    browser.post("/accounts/signup/", {"email": "late@example.com", "password1": PASSWORD, "password2": PASSWORD})
    browser.post("/dashboard/", {"agent": trial_agent.pk, "input": "first"})
    assert browser.get("/accounts/email/").status_code == 200

    browser.post("/accounts/email/", {"email": "late@example.com", "action_send": ""})
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+)", mailoutbox[-1].body).group(1)
    browser.post(link)

    page = browser.post("/dashboard/", {"agent": trial_agent.pk, "input": "second"}).content.decode()
    assert "until your e-mail address is verified" not in page
    assert User.objects.get(email="late@example.com").email_verified
    assert Message.objects.filter(role="assistant").count() == 2


@override_settings(SIGNUP_THROTTLE_IP="5/hour")
def test_the_sixth_api_signup_from_one_address_is_throttled(api_client, trial_agent):
    for number in range(5):
        assert register(api_client, f"bulk{number}@example.com").status_code == 201

    sixth = register(api_client, "bulk5@example.com", HTTP_X_FORWARDED_FOR=f"198.51.100.{number}")

    assert sixth.status_code == 429
    assert int(sixth["Retry-After"]) > 0
    assert not User.objects.filter(email="bulk5@example.com").exists()


def test_web_and_api_signups_share_the_per_address_limit(api_client, trial_agent):
    browser = Client()
    for number in range(3):
        browser.post(
            "/accounts/signup/", {"email": f"web{number}@example.com", "password1": PASSWORD, "password2": PASSWORD}
        )
    for number in range(2):
        assert register(api_client, f"api{number}@example.com").status_code == 201

    sixth = browser.post(
        "/accounts/signup/", {"email": "web9@example.com", "password1": PASSWORD, "password2": PASSWORD}
    )

    assert sixth.status_code == 429
    assert not User.objects.filter(email="web9@example.com").exists()


def test_seeded_trial_plan_caps_tokens(settings):
    call_command("seed_plans")

    trial = Plan.objects.get(code=settings.TRIAL_PLAN)
    assert trial.trial_days > 0
    assert trial.quota_tokens_input is not None
    assert trial.quota_tokens_output is not None


def test_a_web_signup_without_a_trial_is_told_why(api_client, trial_agent):
    register(api_client, "twice@example.com")
    User.objects.filter(email="twice@example.com").delete()

    page = Client().post(
        "/accounts/signup/",
        {"email": "Twice+again@example.com", "password1": PASSWORD, "password2": PASSWORD},
        follow=True,
    )

    assert "already had its free trial" in page.content.decode()
    assert not has_trial("twice+again@example.com")
