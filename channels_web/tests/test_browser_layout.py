"""Layout in headless Chromium at a laptop's 1280 px and a phone's 390 px (issue 19): nothing scrolls sideways,
nothing clips. Uses Debian's /usr/bin/chromium like test_browser.py."""

from contextlib import contextmanager

import pytest
from django.conf import settings
from django.test import Client
from django.urls import get_resolver
from playwright.sync_api import expect, sync_playwright

from accounts.tests.factories import UserFactory
from agents.tests.factories import AgentFactory
from channels_web.tests.test_browser import BROWSER_TIMEOUT_MS, CHROMIUM, CHROMIUM_ARGS
from policy.models import RuleKind
from policy.tests.factories import PolicyRuleFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (.ci/run installs it)"
    ),
]

PAGE_OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


@contextmanager
def browser_page(*, width: int, session: str, url: str):
    """A Chromium page `width` px wide, signed in with the session cookie. Open it after the data is written:
    Playwright's sync API runs an event loop in this thread, and Django then sees an async context."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-US")
        context.set_default_timeout(BROWSER_TIMEOUT_MS)
        expect.set_options(timeout=BROWSER_TIMEOUT_MS)
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": url}])
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


def _session_of(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


@pytest.fixture
def operator_session(db):
    get_resolver().url_patterns  # import the URLconf here, not in the live server's first request
    return _session_of(UserFactory(is_staff=True, is_superuser=True))


def test_console_agent_page_and_policy_rule_list_fit_1280_px(live_server, operator_session, monkeypatch):
    agent = AgentFactory(name="Contract Reviewer", with_prompt=True)
    agent.prompt_versions.update(note="A long operator note explaining what changed in this version and why")
    PolicyRuleFactory(
        kind=RuleKind.EXTRA_QUOTA,
        organization__name="Organisation With A Rather Long Registered Name Ltd",
        agent=agent,
        extra_requests=5000,
        extra_tokens_input=2_000_000,
    )
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    with browser_page(width=1280, session=operator_session, url=live_server.url) as page:
        page.goto(f"{live_server.url}/admin/agents/agent/{agent.pk}/change/")
        expect(page.locator("#prompt_versions-group")).to_be_visible()
        assert page.evaluate(PAGE_OVERFLOW) <= 0

        page.goto(f"{live_server.url}/admin/policy/policyrule/")
        results = page.locator("#changelist-form .results")
        expect(results).to_contain_text("+5,000 requests")
        assert results.evaluate("element => element.scrollWidth - element.clientWidth") <= 0
        assert page.evaluate(PAGE_OVERFLOW) <= 0


NAV_ROWS = """() => new Set([document.querySelector('.brand'), ...document.querySelectorAll('.nav-links > li')]
    .map(item => Math.round(item.getBoundingClientRect().top))).size"""


@pytest.fixture
def customer_session(db):
    from billing.tests.account_factories import BillingAccountFactory, PaymentFactory
    from billing.tests.factories import PlanFactory

    get_resolver().url_patterns
    agent = AgentFactory(name="Helper", with_prompt=True)
    plan = PlanFactory(code="monthly", name="Monthly", agents=[agent], quota_requests=10000)
    owner = UserFactory(is_staff=True)  # staff: the nav has its longest set of links
    account = BillingAccountFactory(organization=owner.organization, plan=plan)
    for amount in ("19.99", "1234.50"):
        PaymentFactory(account=account, plan=plan, amount=amount)
    return _session_of(owner)


@pytest.mark.parametrize("width", [390, 1280])
def test_billing_page_fits_and_the_nav_is_one_line(live_server, customer_session, monkeypatch, width):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    with browser_page(width=width, session=customer_session, url=live_server.url) as page:
        page.goto(f"{live_server.url}/billing/")
        expect(page.locator("#payments")).to_contain_text("1,234.50 USD")
        assert page.evaluate(PAGE_OVERFLOW) <= 0
        table = page.locator("#payments").bounding_box()
        assert table["x"] >= 0 and table["x"] + table["width"] <= width
        assert page.evaluate(NAV_ROWS) == 1


FOCUS_NAME = """() => { const e = document.activeElement;
    return e.id || (e.closest('.conversation-list') ? 'conversation-link' : e.tagName + ':' + e.textContent); }"""


@pytest.mark.parametrize("width", [390, 1280])
def test_dashboard_reaches_the_message_box_before_the_conversations_and_keeps_the_agent(
    live_server, customer_session, monkeypatch, width
):
    from accounts.models import User
    from agents.models import Conversation

    owner = User.objects.get(is_staff=True)  # the customer of customer_session
    agent = AgentFactory(name="Second", with_prompt=True)
    owner.organization.billing_account.plan.agents.add(agent)
    for index in range(5):
        Conversation.objects.create(
            organization=owner.organization, user=owner, agent=agent, channel="web", title=f"Old topic {index}"
        )
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    with browser_page(width=width, session=customer_session, url=live_server.url) as page:
        page.goto(f"{live_server.url}/dashboard/")
        expect(page.locator(".conversation-list li")).to_have_count(5)
        assert page.evaluate(PAGE_OVERFLOW) <= 0
        assert page.evaluate(NAV_ROWS) == 1

        reached = []
        while "id_input" not in reached and len(reached) < 40:
            page.keyboard.press("Tab")
            reached.append(page.evaluate(FOCUS_NAME))
        assert "id_input" in reached and "conversation-link" not in reached

        page.locator("#id_agent").select_option(label="Second")
        page.get_by_label("Message").fill("Hello there")
        page.get_by_label("Message").press("Enter")
        expect(page.locator("#fixed-agent")).to_have_text("Second")
        expect(page.locator("#id_agent")).to_have_count(0)
        assert page.evaluate(PAGE_OVERFLOW) <= 0
