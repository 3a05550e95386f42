"""Each request's synchronous work runs on a thread of its own, reused across requests
(botgeneric.request_threads): through the project's ASGI application, in-process."""

import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async
from django.core.signals import request_finished

from botgeneric import asgi
from botgeneric.request_threads import RequestThreads


def _scope(path: str) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }


async def _get(application, path: str) -> int:
    """One request; the client stays connected until the response is complete."""
    sent: list[dict] = []
    done = asyncio.Event()
    body_given = False

    async def receive():
        nonlocal body_given
        if not body_given:
            body_given = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            done.set()

    await application(_scope(path), receive, send)
    done.set()
    return sent[0]["status"]


@pytest.mark.django_db(transaction=True)
def test_sequential_requests_reuse_one_thread_for_their_database_work():
    served_on: list[str] = []

    def finished(**kwargs):
        served_on.append(threading.current_thread().name)

    request_finished.connect(finished, dispatch_uid="test.request_threads")
    try:

        async def twenty():
            return [await _get(asgi.application, "/healthz") for _ in range(20)]

        assert asyncio.run(twenty()) == [200] * 20
    finally:
        request_finished.disconnect(dispatch_uid="test.request_threads")
        asgi.request_threads.close()

    assert len(served_on) == 20
    # Django alone starts a new thread for every request (20 names); here one or two serve them all.
    assert len(set(served_on)) <= 2, set(served_on)


def test_requests_in_flight_together_never_share_a_thread():
    """Five requests whose synchronous work must overlap: on a shared thread they would deadlock."""
    threads = RequestThreads()
    meeting = threading.Barrier(5, timeout=5)
    names: list[str] = []

    async def app(scope, receive, send):
        names.append(await sync_to_async(lambda: (meeting.wait(), threading.current_thread().name)[1])())

    async def five():
        await asyncio.gather(*(threads.serve(app, {}, None, None) for _ in range(5)))

    asyncio.run(five())
    threads.close()
    assert len(set(names)) == 5


def test_a_thread_still_busy_with_a_finished_requests_work_is_not_given_to_the_next():
    threads = RequestThreads()
    release = threading.Event()
    names: list[str] = []

    async def leaves_work_behind(scope, receive, send):
        names.append(threading.current_thread().name)  # the event loop's, for contrast
        scope["left"] = asyncio.ensure_future(sync_to_async(release.wait)())
        names.append(await sync_to_async(lambda: threading.current_thread().name)())

    async def quick(scope, receive, send):
        names.append(await sync_to_async(lambda: threading.current_thread().name)())

    async def two():
        scope: dict = {}
        await threads.serve(leaves_work_behind, scope, None, None)
        await threads.serve(quick, {}, None, None)  # the first request's thread still waits on `release`
        release.set()
        await scope["left"]
        await asyncio.sleep(0.05)  # the first thread goes back to the pool
        await threads.serve(quick, {}, None, None)

    asyncio.run(two())
    threads.close()
    first, second, third = names[1], names[2], names[3]
    assert second != first
    assert third in (first, second)
