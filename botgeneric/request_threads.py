"""Each request's synchronous work runs on a thread of its own, as Django arranges under ASGI, but the
threads are reused instead of started for every request.

Django's ASGI handler gives each request a new one-thread executor (asgiref's `ThreadSensitiveContext`):
its ORM work, signals and synchronous views run there, one at a time, never on another request's
thread. Starting that thread, and joining it at the end from yet another thread, cost ~0.45 ms of CPU
and ~1 ms of latency per request on a 2-core machine. `RequestThreads` keeps the same arrangement —
one thread per request in flight, nothing shared between two requests at the same time — with
asgiref's documented way to supply the executor (`ThreadSensitiveContext(executor=...)`, which Django's
own context inside then uses). A thread goes back to the pool only once everything its request queued
on it has finished, so a request never waits behind another's leftover work.

Thread-local state is what a reused WSGI thread sees: Django's request signals close or return the
database connections at the end of each request as before (a pooled connection goes back to the pool).
"""

import collections
import itertools
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext
from django.db import connections

# Idle threads kept for the next requests; a burst beyond this gets threads that end after it.
MAX_IDLE_THREADS = 64
_numbers = itertools.count(1)


class RequestThreads:
    def __init__(self, max_idle: int = MAX_IDLE_THREADS):
        self._idle: collections.deque[ThreadPoolExecutor] = collections.deque()
        self._max_idle = max_idle

    async def serve(self, application, scope, receive, send) -> None:
        """Run one ASGI request of `application` with a thread from the pool for its synchronous work."""
        executor = self._take()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await application(scope, receive, send)
        finally:
            # Queued last on the thread, so it runs once the request's own work there is done.
            executor.submit(_nothing).add_done_callback(lambda _: self._give_back(executor))

    def close(self) -> None:
        """Close the idle threads' database connections and end them (the server is stopping)."""
        while self._idle:
            executor = self._idle.pop()
            executor.submit(connections.close_all)
            executor.shutdown(wait=True)

    def _take(self) -> ThreadPoolExecutor:
        try:
            return self._idle.pop()
        except IndexError:
            return ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"request-{next(_numbers)}")

    def _give_back(self, executor: ThreadPoolExecutor) -> None:
        if len(self._idle) < self._max_idle:
            self._idle.append(executor)
        else:
            executor.submit(connections.close_all)
            executor.shutdown(wait=False)


def _nothing() -> None:
    return None
