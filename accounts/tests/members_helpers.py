"""Helpers of the members tests: signed-in API clients and the token of a mailed invitation link."""

import re

from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

LINK = re.compile(r"/invitations/([A-Za-z0-9_-]+)/")


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    client.user = user
    return client


def token_in(message) -> str:
    """The invitation token of a mailed link."""
    return LINK.search(message.body).group(1)
