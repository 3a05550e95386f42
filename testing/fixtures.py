"""Fixtures shared by every app's tests."""

import os

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttle and rate-limit counters live in the cache, model prices, SDK clients, the policy
    rules memo and the API keys memo in-process; no test inherits another's."""
    from agents.runtime import clear_caches
    from policy import rules_cache
    from tenants import api_key_cache
    from usage.services import clear_price_cache

    cache.clear()
    api_key_cache.clear()
    clear_caches()
    clear_price_cache()
    rules_cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def user(db):
    from accounts.tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def auth_client(user):
    """An API client signed in as `user` with a real JWT."""
    from rest_framework_simplejwt.tokens import RefreshToken

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    client.user = user
    return client


@pytest.fixture(scope="session")
def _fake_openai_server():
    from testing.fakes.openai_upstream import FakeOpenAI

    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture
def fake_openai(_fake_openai_server):
    """A fake OpenAI-compatible upstream on 127.0.0.1 (real HTTP): `.base_url`, `.requests`, `.mode`,
    `.latency_ms`. Shared by the session, reset for every test."""
    _fake_openai_server.reset()
    yield _fake_openai_server
    _fake_openai_server.reset()


@pytest.fixture
def fake_paddle(settings):
    """The Paddle API fake on 127.0.0.1, with the app configured to use it (and to verify its webhooks)."""
    from testing.fakes.paddle_api import API_KEY, FakePaddle

    fake = FakePaddle().start()
    fake.webhook_secret = "pdl_ntfset_test_secret_0123456789"
    settings.PADDLE_API_KEY = API_KEY
    settings.PADDLE_WEBHOOK_SECRET = [fake.webhook_secret]
    settings.PADDLE_API_URL = fake.url
    yield fake
    fake.stop()


@pytest.fixture
def fake_yookassa(settings):
    """The YooKassa API fake on 127.0.0.1, with the app configured to use it."""
    from testing.fakes.yookassa_api import SECRET_KEY, SHOP_ID, FakeYooKassa

    fake = FakeYooKassa().start()
    settings.YOOKASSA_SHOP_ID = SHOP_ID
    settings.YOOKASSA_SECRET_KEY = SECRET_KEY
    settings.YOOKASSA_API_URL = fake.url
    yield fake
    fake.stop()


@pytest.fixture
def smtp(settings):
    """Mail as in production: queued after commit, delivered by the e-mail task to a fake SMTP server on
    127.0.0.1 (`.messages`)."""
    from testing.fakes.smtp_server import FakeSMTP

    server = FakeSMTP().start()
    settings.EMAIL_BACKEND = "background.mail.QueuedEmailBackend"
    settings.EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield server
    server.stop()


#: Where the per-chat lock of the Telegram bots lives: Redis, PostgreSQL without it, PostgreSQL while it is down.
CHAT_LOCK_BACKENDS = {
    "redis": os.environ.get("REDIS_URL", ""),
    "postgresql": "",
    "redis down, postgresql": "redis://127.0.0.1:1/0",
}


@pytest.fixture(params=list(CHAT_LOCK_BACKENDS))
def lock_backend(request, settings):
    """Each chat-lock test once per place the lock can live."""
    if request.param == "redis" and not CHAT_LOCK_BACKENDS["redis"]:
        pytest.skip("REDIS_URL is not set")
    settings.REDIS_URL = CHAT_LOCK_BACKENDS[request.param]
    settings.REDIS_TIMEOUT_SECONDS = 0.5
    return request.param


@pytest.fixture
def same_rate_window():
    """Rate limits count in fixed one-minute windows: a test whose calls must land in one window
    starts early enough in a window that they cannot straddle its boundary."""
    import time

    remaining = 60 - time.time() % 60
    if remaining < 15:
        time.sleep(remaining + 0.1)


@pytest.fixture
def fake_google(settings, monkeypatch):
    """Google's sign-in server faked on 127.0.0.1, configured as the Google app for allauth and the
    ID-token exchange. allauth reads Google's endpoint URLs once, at import: they are pointed here."""
    from allauth.socialaccount.providers.google import views as google_views

    from testing.fakes.oidc_provider import FakeOIDCProvider

    fake = FakeOIDCProvider.google().start()
    settings.SOCIALACCOUNT_PROVIDERS = {
        **settings.SOCIALACCOUNT_PROVIDERS,
        "google": {
            "APPS": [{"client_id": fake.client_id, "secret": fake.client_secret}],
            "SCOPE": ["openid", "profile", "email"],
        },
    }
    settings.GOOGLE_JWKS_URL = fake.jwks_url
    monkeypatch.setattr(google_views.GoogleOAuth2Adapter, "authorize_url", fake.authorize_url)
    monkeypatch.setattr(google_views.GoogleOAuth2Adapter, "access_token_url", fake.token_url)
    monkeypatch.setattr(google_views.GoogleOAuth2Adapter, "identity_url", fake.userinfo_url)
    monkeypatch.setattr(google_views, "CERTS_URL", fake.pem_certs_url)
    yield fake
    fake.stop()


@pytest.fixture
def fake_apple(settings, monkeypatch):
    """Apple's sign-in server faked on 127.0.0.1, with the team key allauth signs its client secret
    with. allauth's Apple adapter has its endpoint URLs as class attributes: they are pointed here."""
    from allauth.socialaccount.providers.apple.views import AppleOAuth2Adapter

    from testing.fakes.oidc_provider import FakeOIDCProvider

    fake = FakeOIDCProvider.apple().start()
    settings.SOCIALACCOUNT_PROVIDERS = {
        **settings.SOCIALACCOUNT_PROVIDERS,
        "apple": {
            "APPS": [
                {
                    "client_id": fake.client_id,
                    "secret": fake.key_id,
                    "key": fake.team_id,
                    "settings": {"certificate_key": fake.team_private_key_pem},
                }
            ]
        },
    }
    settings.APPLE_JWKS_URL = fake.jwks_url
    monkeypatch.setattr(AppleOAuth2Adapter, "authorize_url", fake.authorize_url)
    monkeypatch.setattr(AppleOAuth2Adapter, "access_token_url", fake.token_url)
    monkeypatch.setattr(AppleOAuth2Adapter, "public_key_url", fake.jwks_url)
    yield fake
    fake.stop()


@pytest.fixture
def live_asgi_server(transactional_db):
    """The project's ASGI application under uvicorn on 127.0.0.1, as `make run` serves it: real HTTP,
    streamed answers, client disconnects. `.url`; needs committed data (a transactional test)."""
    from testing.asgi_server import LiveASGIServer

    server = LiveASGIServer().start()
    yield server
    server.stop()
