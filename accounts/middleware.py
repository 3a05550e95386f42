from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.utils import translation


class UserLocaleMiddleware:
    """A signed-in user's stored locale wins over the browser's Accept-Language.

    Async-capable, so under the ASGI server a streamed answer passes through without holding a thread;
    reading `request.user` (a session lookup) then runs in the request's thread, where the view finds it.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.async_mode:
            return self.__acall__(request)
        _activate_user_locale(request)
        return self.get_response(request)

    async def __acall__(self, request):
        # Without a session cookie nobody is signed in through the session (API calls): no trip to a thread.
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            await sync_to_async(_activate_user_locale)(request)
        return await self.get_response(request)


def _activate_user_locale(request) -> None:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.locale:
        translation.activate(user.locale)
        request.LANGUAGE_CODE = translation.get_language()
