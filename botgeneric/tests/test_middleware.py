"""`botgeneric.middleware`: API-key calls pass the browser-session middleware; everything else meets it as
before, and the hooks that run inline on the event loop still do their work."""

import pytest
from asgiref.sync import async_to_sync
from django.http import HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.test import AsyncClient, RequestFactory

from botgeneric.middleware import AuthenticationMiddleware, SessionMiddleware

pytestmark = pytest.mark.django_db


def _seen_by_view(**headers) -> dict:
    seen = {}

    def view(request):
        seen["session"] = hasattr(request, "session")
        seen["user"] = hasattr(request, "user")
        return HttpResponse()

    request = RequestFactory().post("/api/v1/agents/1/invoke", headers=headers)
    chain = SessionMiddleware(AuthenticationMiddleware(view))
    chain(request)
    return seen


def test_an_api_key_call_passes_the_session_middleware():
    assert _seen_by_view(authorization="Api-Key bg_abc_def") == {"session": False, "user": False}
    assert _seen_by_view(authorization="Bearer bg_abc_def") == {"session": False, "user": False}


def test_a_jwt_or_cookie_call_meets_the_session_middleware():
    assert _seen_by_view(authorization="Bearer eyJhbGciOi") == {"session": True, "user": True}
    assert _seen_by_view() == {"session": True, "user": True}


def test_csrf_still_guards_a_cookie_post():
    csrf = CsrfViewMiddleware(lambda request: HttpResponse())

    def view(request):
        return HttpResponse()

    browser = RequestFactory().post("/dashboard/")
    browser.COOKIES["sessionid"] = "x"

    assert csrf.process_view(browser, view, (), {}).status_code == 403


def test_inline_hooks_still_set_their_headers_under_asgi():
    response = async_to_sync(AsyncClient().get)("/accounts/login/")

    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Accept-Language" in response.get("Vary", "")
