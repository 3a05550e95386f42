from django.utils import translation


class UserLocaleMiddleware:
    """A signed-in user's stored locale wins over the browser's Accept-Language."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.locale:
            translation.activate(user.locale)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
