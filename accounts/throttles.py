"""Login and sign-up throttles: per client IP, per account tried, and sign-ups per IP."""

from allauth.core import ratelimit
from django.conf import settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from accounts.selectors import login_attempts_key
from botgeneric.client_address import client_ip


class AuthIPThrottle(SimpleRateThrottle):
    """Per client address as our own proxies saw it (`TRUSTED_PROXY_HOPS`), never a client-sent header."""

    scope = "auth_ip"

    def get_ident(self, request):
        return client_ip(request)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class AuthEmailThrottle(SimpleRateThrottle):
    """Per account the address resolves to, so every spelling of one address shares one bucket."""

    scope = "auth_email"

    def get_cache_key(self, request, view):
        data = request.data if isinstance(request.data, dict) else {}
        email = data.get("email")
        if not isinstance(email, str) or not email.strip():
            return None
        return self.cache_format % {"scope": self.scope, "ident": login_attempts_key(email)}


class SignupIPThrottle(BaseThrottle):
    """`SIGNUP_THROTTLE_IP` sign-ups per client IP, counted in allauth's `signup` limit, so the API and
    the web sign-up page share one budget."""

    def allow_request(self, request, view):
        return ratelimit.consume(request._request, action="signup")

    def wait(self):
        return SimpleRateThrottle.parse_rate(self, settings.SIGNUP_THROTTLE_IP)[1]
