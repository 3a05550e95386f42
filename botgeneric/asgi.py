import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "botgeneric.settings.base")

django_application = get_asgi_application()

# Import the URLconf (and every view module it names) as each worker starts, not in its first request.
from django.urls import get_resolver  # noqa: E402  (after setup)

get_resolver().url_patterns  # noqa: B018  (the attribute access is the import)

from botgeneric.request_threads import RequestThreads  # noqa: E402  (after setup)

request_threads = RequestThreads()


async def application(scope, receive, send):
    """Django's ASGI application, which takes HTTP only, each request's synchronous work on a reused
    thread (`botgeneric.request_threads`). The server's lifespan messages (uvicorn sends them at start
    and stop) are answered here: Django would raise, and that error would reach the logs and Sentry at
    every worker start."""
    if scope["type"] != "lifespan":
        return await request_threads.serve(django_application, scope, receive, send)
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            request_threads.close()
            await send({"type": "lifespan.shutdown.complete"})
            return
