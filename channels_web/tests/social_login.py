"""Finish a Google sign-in the way allauth's callback does once Google has answered.

The OAuth handshake itself (Google's token and certificate endpoints) is not replayed here; from the
provider's parsed answer on, allauth's real pipeline runs: our adapters, e-mail authentication,
auto-connect, sign-up and login, against the test client's own session.
"""

from allauth.core import context
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.helpers import complete_social_login
from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.messages.storage import default_storage
from django.test import RequestFactory

GOOGLE_APP = {"google": {"APPS": [{"client_id": "google-id", "secret": "google-secret"}]}}


def google_login(client, *, sub: str, email: str, email_verified: bool = True):
    """Sign `client` in with a Google account; returns allauth's response."""
    request = RequestFactory().get("/accounts/google/login/callback/")
    request.session = client.session
    request.user = get_user(request)
    request._messages = default_storage(request)
    with context.request_context(request):
        provider = get_adapter().get_provider(request, "google")
        data = {"sub": sub, "email": email, "email_verified": email_verified, "name": "Google User"}
        sociallogin = provider.sociallogin_from_response(request, data)
        sociallogin.state = {"process": "login"}
        response = complete_social_login(request, sociallogin)
    request.session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = request.session.session_key
    return response
