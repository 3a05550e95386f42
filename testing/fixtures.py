"""Fixtures shared by every app's tests."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttle and rate-limit counters live in the cache, model prices and SDK clients in-process;
    no test inherits another's."""
    from agents.runtime import clear_caches
    from usage.services import clear_price_cache

    cache.clear()
    clear_caches()
    clear_price_cache()
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
