import pytest
from django.test import Client


@pytest.fixture
def web_client(user):
    """A browser-like client signed in as `user` (session cookie, CSRF checks on)."""
    client = Client(enforce_csrf_checks=False)
    client.force_login(user)
    client.user = user
    return client
