"""What the streaming API views share: an async DRF view, the Server-Sent Events response, keep-alives.

A streamed answer lasts seconds to minutes; on the ASGI server it holds no thread while it waits on the
provider. DRF's checks (authentication, permissions, throttles) and the ORM work stay synchronous and
run in a thread for the moment they take; the answer itself is an async generator the server drains.
"""

import asyncio
import contextlib
import functools
import inspect
from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import StreamingHttpResponse
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.views import APIView

from agents.services import release_connection, undone_if_cancelled

_END = object()


class AsyncAPIView(APIView):
    """An APIView whose handlers are coroutines, `handler(request, prepared, *args, **kwargs)`.

    DRF's `initial()` (authentication, permissions, throttles) and the view's own synchronous
    `prepare(request, *args, **kwargs)` (validation, ORM reads, starting the call) run together in one
    trip to a thread; the handler runs on the event loop. If the client leaves while that trip runs, it
    still runs to its end and `abandon(prepared)` undoes what it started (a reservation). Errors become
    responses through the view's exception handler, as in any DRF view.
    """

    def prepare(self, request, *args, **kwargs):
        return None

    def abandon(self, prepared) -> None:
        """Undo what `prepare` started, for a request whose client left before the handler ran (in a
        thread; the default has nothing to undo)."""

    def _initial_and_prepare(self, request, *args, **kwargs):
        try:
            self.initial(request, *args, **kwargs)
            return self.prepare(request, *args, **kwargs)
        finally:
            release_connection()

    async def dispatch(self, request, *args, **kwargs):
        self.args = args
        self.kwargs = kwargs
        request = self.initialize_request(request, *args, **kwargs)
        self.request = request
        self.headers = self.default_response_headers
        try:
            method = request.method.lower()
            handler = getattr(self, method, None) if method in self.http_method_names else None
            if handler is None or not inspect.iscoroutinefunction(handler):
                # OPTIONS (APIView's own synchronous handler) and unknown methods, as DRF answers them.
                await sync_to_async(self.initial)(request, *args, **kwargs)
                response = (handler or self.http_method_not_allowed)(request, *args, **kwargs)
            else:
                prepared = await self._prepared(request, *args, **kwargs)
                response = await handler(request, prepared, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 — DRF's own dispatch: every error goes to the exception handler
            response = self.handle_exception(exc)
        self.response = self.finalize_response(request, response, *args, **kwargs)
        return self.response

    async def _prepared(self, request, *args, **kwargs):
        work = functools.partial(self._initial_and_prepare, request, *args, **kwargs)
        return await undone_if_cancelled(work, self.abandon)


class EventStreamNegotiation(DefaultContentNegotiation):
    """`Accept: text/event-stream` asks for the streamed answer, which the view writes itself; the
    error responses before it starts are JSON (the first renderer), as for any other request."""

    def select_renderer(self, request, renderers, format_suffix=None):
        if "text/event-stream" in request.META.get("HTTP_ACCEPT", ""):
            return renderers[0], renderers[0].media_type
        return super().select_renderer(request, renderers, format_suffix)


def wants_event_stream(request, data: dict) -> bool:
    """`"stream": true` in the body, or an `Accept: text/event-stream` header."""
    return bool(data.get("stream")) or "text/event-stream" in request.META.get("HTTP_ACCEPT", "")


async def event_stream_response(request, body: AsyncIterator[str]) -> StreamingHttpResponse:
    """A `text/event-stream` response that no cache or proxy (nginx's X-Accel-Buffering) holds back.

    Under a WSGI server (runserver, the test client) Django would drain an async body on another event
    loop than the one the upstream connection lives in: there the events are collected first and sent
    together. The ASGI server sends each as it comes.
    """
    if not isinstance(getattr(request, "_request", request), ASGIRequest):
        body = iter([part async for part in body])
    response = StreamingHttpResponse(body, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


async def with_keepalives(events: AsyncIterator, interval: float | None = None) -> AsyncIterator:
    """`events`, with a None each time it stays silent for `interval` seconds (STREAM_KEEPALIVE_SECONDS,
    15: the caller writes an SSE comment, so proxies and clients do not give up on a slow provider).

    One task reads `events` into a small queue, so a keep-alive never interrupts a read in progress.
    When this generator is closed or cancelled (the client left), that task is cancelled and awaited —
    the stream's own cleanup (stopping the provider, charging what was delivered) runs to its end.
    """
    interval = settings.STREAM_KEEPALIVE_SECONDS if interval is None else interval
    queue: asyncio.Queue = asyncio.Queue(maxsize=64)

    async def pump() -> None:
        try:
            async for event in events:
                await queue.put((event, None))
        except Exception as exc:  # noqa: BLE001 — handed to the reader, which raises it
            await queue.put((_END, exc))
        else:
            await queue.put((_END, None))

    reader = asyncio.ensure_future(pump())
    try:
        while True:
            try:
                async with asyncio.timeout(interval):
                    event, error = await queue.get()
            except TimeoutError:
                yield None
                continue
            if event is _END:
                if error is not None:
                    raise error
                return
            yield event
    finally:
        if not reader.done():
            reader.cancel()
            with contextlib.suppress(BaseException):
                await reader
        await events.aclose()
