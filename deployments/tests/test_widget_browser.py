"""The widget in headless Chromium (Debian's /usr/bin/chromium through Playwright): a shop's page on
another origin embeds it, a visitor chats and sees the answer stream in; the same page served from an
origin the owner did not allow gets no answer."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from deployments.models import Contact
from deployments.tests.factories import DeploymentFactory

CHROMIUM = Path("/usr/bin/chromium")
TIMEOUT_MS = 60_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]


@pytest.fixture
def shop_site():
    """A customer's website on its own port: one page that embeds the widget given by `.embed`."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):
            body = f"<!doctype html><title>Bakery</title><h1>Bakery</h1>{server.embed}".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    server.embed = ""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def browser_page(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(locale="en-US")
        context.set_default_timeout(TIMEOUT_MS)
        expect.set_options(timeout=TIMEOUT_MS)
        yield context.new_page()
        context.close()
        browser.close()


def test_a_page_of_an_allowed_origin_chats_and_another_origin_is_refused(
    tenant, fake_openai, live_asgi_server, shop_site, browser_page
):
    port = shop_site.server_address[1]
    widget = DeploymentFactory(
        organization=tenant.owner.organization, agent=tenant.sales, allowed_origins=[f"http://127.0.0.1:{port}"]
    )
    shop_site.embed = (
        f'<script src="{live_asgi_server.url}/static/widget/widget.js" data-deployment="{widget.public_key}" async>'
        "</script>"
    )
    fake_openai.token_delay_ms = 40
    page = browser_page

    page.goto(f"http://127.0.0.1:{port}/")
    page.get_by_role("button", name="Chat").click()
    page.get_by_placeholder("Your message…").fill("Do you bake rye bread?")
    page.get_by_role("button", name="Send").click()

    answer = page.locator(".bg-assistant")
    expect(answer).to_contain_text("echo: Do you bake rye bread?")
    assert Contact.objects.filter(deployment=widget, channel="widget").count() == 1

    # The same page from an origin the owner did not allow: the server refuses, the browser shows no answer.
    refused = page.context.new_page()
    refused.goto(f"http://localhost:{port}/")
    refused.get_by_role("button", name="Chat").click()
    refused.get_by_placeholder("Your message…").fill("Hello?")
    refused.get_by_role("button", name="Send").click()
    expect(refused.locator(".bg-assistant.bg-error")).to_have_text("The chat is not available.")
    assert len(fake_openai.chat_requests) == 1
