import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "botgeneric.settings.base")

application = get_asgi_application()

# Import the URLconf (and every view module it names) as each worker starts, not in its first request.
from django.urls import get_resolver  # noqa: E402  (after setup)

get_resolver().url_patterns  # noqa: B018  (the attribute access is the import)
