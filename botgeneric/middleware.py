"""Django's middleware, at the cost an API call should pay under the ASGI server.

Why: in an async chain, every `MiddlewareMixin` middleware runs its `process_request` and `process_response`
in a thread (`sync_to_async`), two trips per middleware per request — fourteen for Django's usual list,
about a fifth of an API invoke's CPU (README, "Benchmark"). Two remedies, each for what it is safe for:

- Hooks that only compute (headers, redirects, the language from Accept-Language) run where the request
  runs, on the event loop: `SecurityMiddleware`, `LocaleMiddleware`, `CommonMiddleware`,
  `XFrameOptionsMiddleware` below are Django's own with that one change.
- The browser-session middleware (sessions, CSRF, `request.user` from the session, messages) is passed by
  requests to `/api/` signed with an API key: they authenticate by the key, never by cookie, and no scope
  of a key reaches a view that reads the session (profile and membership changes refuse keys). Every
  other request, API calls with a JWT included, goes through it as before.
"""

from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware as DjangoMessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.middleware import common, locale

from tenants.services import API_KEY_PREFIX

API_KEY_SCHEMES = ("api-key ", f"bearer {API_KEY_PREFIX}")


def signed_with_api_key(request) -> bool:
    """An `/api/` request whose Authorization header carries one of our API keys (either scheme)."""
    if not request.path_info.startswith("/api/"):
        return False
    header = request.META.get("HTTP_AUTHORIZATION", "")
    return header[: len(API_KEY_SCHEMES[1])].lower().startswith(API_KEY_SCHEMES)


class _InlineHooks:
    """`process_request`/`process_response` called directly in async mode: they do no I/O."""

    async def __acall__(self, request):
        response = self.process_request(request) if hasattr(self, "process_request") else None
        response = response or await self.get_response(request)
        if hasattr(self, "process_response"):
            response = self.process_response(request, response)
        return response


class LocaleMiddleware(_InlineHooks, locale.LocaleMiddleware):
    pass


class CommonMiddleware(_InlineHooks, common.CommonMiddleware):
    pass


class _PassedByApiKeys:
    """A browser-session middleware that requests signed with an API key pass straight through."""

    def __call__(self, request):
        # In async mode both calls return the coroutine the handler awaits.
        if signed_with_api_key(request):
            return self.get_response(request)
        return super().__call__(request)


class SessionMiddleware(_PassedByApiKeys, DjangoSessionMiddleware):
    pass


class AuthenticationMiddleware(_PassedByApiKeys, DjangoAuthenticationMiddleware):
    pass


class MessageMiddleware(_PassedByApiKeys, DjangoMessageMiddleware):
    pass
