"""End to end in headless Chromium (Debian's /usr/bin/chromium; Playwright drives it, never downloads one)."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import get_resolver
from playwright.sync_api import expect, sync_playwright

from agents.demo import seed_catalog
from agents.models import Agent
from billing.models import Plan

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# Generous: a loaded CI machine renders the first pages slowly.
BROWSER_TIMEOUT_MS = 60_000
PASSWORD = "a-long-unusual-passphrase-42"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (.ci/run installs it)"
    ),
]


@pytest.fixture
def page(monkeypatch):
    """A fresh Chromium page. Request it after the data fixtures: once Playwright's sync API runs its
    event loop in this thread, Django sees an async context (hence DJANGO_ALLOW_ASYNC_UNSAFE), and the
    test itself reads nothing more from the database."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
        context.set_default_timeout(BROWSER_TIMEOUT_MS)
        expect.set_options(timeout=BROWSER_TIMEOUT_MS)
        yield context.new_page()
        context.close()
        browser.close()


@pytest.fixture
def catalog(db):
    # Import the whole URLconf (the Telegram channel pulls in aiogram's large pydantic models) here, not
    # in the live server's first request, which would otherwise race the browser's navigation timeout.
    get_resolver().url_patterns
    call_command("seed_plans", verbosity=0)
    seed_catalog()
    trial_plan = Plan.objects.get(code=settings.TRIAL_PLAN)
    outside = Agent.objects.exclude(plans=trial_plan).filter(is_active=True).first()
    return {"trial_agents": sorted(trial_plan.agents.values_list("name", flat=True)), "outside": outside}


def _agent_options(page) -> list[str]:
    return sorted(option.strip() for option in page.locator("#id_agent option").all_inner_texts())


def test_signup_chat_switch_to_russian_and_the_plan_boundary(live_server, catalog, page):
    page.goto(f"{live_server.url}/accounts/signup/")
    page.get_by_label("Email").fill("browser@example.com")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()

    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    assert _agent_options(page) == catalog["trial_agents"]
    assert catalog["outside"].name not in _agent_options(page)

    page.locator("#id_agent").select_option(label=catalog["trial_agents"][0])
    page.get_by_label("Message").fill("Write a two-line greeting for a new customer.")
    page.get_by_role("button", name="Send").click()

    expect(page).to_have_url(re.compile(r"/dashboard/c/\d+/$"))
    expect(page.locator(".msg.user")).to_contain_text("Write a two-line greeting")
    expect(page.locator(".msg.assistant")).to_have_count(1)
    expect(page.locator(".msg.assistant .meta")).to_contain_text(re.compile(r"Tokens: \d+ in, \d+ out"))
    expect(page.locator("#demo-marker")).to_be_visible()
    artifacts = settings.BASE_DIR / "artifacts"
    artifacts.mkdir(exist_ok=True)
    page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)

    page.get_by_role("link", name="Profile").click()
    page.get_by_label("Language").select_option("ru")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_role("link", name="Кабинет")).to_be_visible()

    page.get_by_role("link", name="Кабинет").click()
    expect(page.get_by_role("button", name="Отправить")).to_be_visible()
    expect(page.get_by_role("link", name="Новый диалог")).to_be_visible()

    # The dropdown cannot offer the agent; a hand-crafted form post for it gets the plan message.
    outside = catalog["outside"]
    page.locator("#id_agent").evaluate(
        "(select, agent) => { select.add(new Option(agent.name, agent.id)); select.value = String(agent.id); }",
        {"id": outside.pk, "name": outside.name},
    )
    page.get_by_label("Сообщение").fill("Let me in")
    page.get_by_role("button", name="Отправить").click()
    expect(page.locator("#error")).to_contain_text("Этот агент не входит в ваш тариф — перейдите на Yearly")
    expect(page.locator("#error a")).to_have_attribute("href", "/billing/")


@pytest.fixture
def streaming_customer(db, settings, fake_openai):
    """A signed-in customer (a session cookie for the browser) whose agent answers through the fake
    upstream, streaming word by word."""
    from django.test import Client

    from accounts.tests.factories import UserFactory
    from agents.tests.factories import AgentFactory, LLMProviderFactory
    from billing.tests.account_factories import BillingAccountFactory
    from billing.tests.factories import PlanFactory

    get_resolver().url_patterns
    provider = LLMProviderFactory(openai=True, base_url=fake_openai.base_url, api_key="sk-test")
    agent = AgentFactory(name="Streamer", with_prompt=True, active_prompt__provider=provider)
    agent.prompt_versions.update(max_tokens=500)
    user = UserFactory()
    BillingAccountFactory(organization=user.organization, plan=PlanFactory(agents=[agent], quota_requests=100))
    client = Client()
    client.force_login(user)
    fake_openai.token_delay_ms = 20
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def test_the_answer_streams_into_the_page_and_stop_keeps_what_was_written(
    live_asgi_server, streaming_customer, fake_openai, page
):
    from agents.models import Message

    page.context.add_cookies([{"name": "sessionid", "value": streaming_customer, "url": live_asgi_server.url}])
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_asgi_server.url)
    page.goto(f"{live_asgi_server.url}/dashboard/")
    box = page.get_by_label("Message")

    fake_openai.pause(after=3)
    box.fill("first words\n\n```\nprint(1)\n```")
    box.press("Enter")

    assert fake_openai.wait_paused(timeout=30)
    answer = page.locator(".msg.assistant").last
    expect(answer).to_contain_text("echo: first words")
    expect(page.get_by_role("button", name="Sending…")).to_be_disabled()
    expect(page.locator("#stop-button")).to_be_visible()
    assert fake_openai.pause_after == 3  # still held: the words above came while the upstream waits

    fake_openai.release()
    expect(answer.locator("pre code")).to_have_text("print(1)\n")
    expect(answer.locator(".meta")).to_contain_text(re.compile(r"Tokens: \d+ in, \d+ out"))
    expect(page).to_have_url(re.compile(r"/dashboard/c/\d+/$"))
    expect(box).to_be_focused()
    expect(page.get_by_role("button", name="Send")).to_be_enabled()
    answer.get_by_role("button", name="Copy").click()
    expect(answer.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == "print(1)\n"

    fake_openai.pause(after=4)
    box.fill("one two three four five six seven eight nine ten")
    box.press("Enter")
    assert fake_openai.wait_paused(timeout=30)
    expect(page.locator(".msg.assistant").last).to_contain_text("echo: one two")
    page.locator("#stop-button").click()

    assert fake_openai.wait_closed(timeout=30)
    expect(page.locator(".msg.assistant").last).to_contain_text("Stopped.")
    expect(box).to_be_focused()
    fake_openai.release()
    stopped = _eventually(lambda: Message.objects.filter(role="assistant", interrupted=True).first())
    assert stopped.content.startswith("echo: one two") and "ten" not in stopped.content


def _eventually(read, seconds: float = 10.0):
    """The server settles a stopped answer just after the browser let go: wait for it to be stored."""
    import time

    deadline = time.monotonic() + seconds
    while (value := read()) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return value
