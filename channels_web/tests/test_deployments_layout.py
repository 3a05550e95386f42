"""The deployments, clients and leads pages in headless Chromium at a phone's 390 px and a laptop's 1280 px:
nothing scrolls sideways, the nav stays one line, and the widget's embed code is readable."""

import pytest
from django.urls import get_resolver
from playwright.sync_api import expect

from channels_web.tests.test_browser import CHROMIUM
from channels_web.tests.test_browser_layout import NAV_ROWS, PAGE_OVERFLOW, _session_of, browser_page
from deployments.services import open_conversation
from deployments.tests.factories import ContactFactory, DeploymentFactory
from leads.tests.factories import LeadFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (.ci/run installs it)"
    ),
]


@pytest.fixture
def owner_session(tenant):
    get_resolver().url_patterns  # import the URLconf here, not in the live server's first request
    owner = tenant.owner
    owner.locale, owner.is_staff = "en", True  # staff: the nav has its longest set of links
    owner.save(update_fields=["locale", "is_staff"])
    organization = owner.organization
    widget = DeploymentFactory(
        organization=organization,
        agent=tenant.sales,
        name="Shop of a rather long name for the main website",
        allowed_origins=["https://shop.example.com", "https://www.a-very-long-subdomain.shop.example.com"],
    )
    DeploymentFactory(telegram=True, organization=organization, agent=tenant.sales, bot_username="shop_bot")
    contact = ContactFactory(deployment=widget, name="Maria Silva")
    open_conversation(deployment=widget, contact=contact, user=owner).messages.create(role="user", content="Hi")
    LeadFactory(
        contact=contact,
        name="Maria Silva",
        email="maria.silva@a-long-domain.example.com",
        need="A website for a bakery " * 8,
    )
    return _session_of(owner)


@pytest.mark.parametrize("width", [390, 1280])
def test_the_pages_fit_and_the_nav_is_one_line(live_server, owner_session, monkeypatch, width):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    with browser_page(width=width, session=owner_session, url=live_server.url) as page:
        page.goto(f"{live_server.url}/deployments/")
        page.locator(".embed-code summary").click()
        expect(page.locator(".embed-code pre")).to_contain_text('data-deployment="pub_')
        assert page.evaluate(PAGE_OVERFLOW) <= 0
        assert page.evaluate(NAV_ROWS) == 1
        for path, visible in (("/clients/", "#clients"), ("/leads/", "#leads")):
            page.goto(f"{live_server.url}{path}")
            expect(page.locator(visible)).to_contain_text("Maria Silva")
            assert page.evaluate(PAGE_OVERFLOW) <= 0
