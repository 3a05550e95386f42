"""How async bot code calls the sync services: like Django runs a request, on the right thread.

The worker is a long-lived process with no request cycle, so nothing would otherwise replace a
database connection that went stale or broke (a restarted PostgreSQL would fail every update).
"""

from asgiref.sync import sync_to_async
from django.db import close_old_connections, connections


def _as_request(function):
    def run(**kwargs):
        close_old_connections()
        try:
            return function(**kwargs)
        finally:
            close_old_connections()

    return run


def _on_own_connection(function):
    def run(**kwargs):
        try:
            return function(**kwargs)
        finally:
            connections.close_all()

    return run


async def call(function, **kwargs):
    """A short service call (a few queries) on the thread Django keeps for sync code."""
    return await sync_to_async(_as_request(function), thread_sensitive=True)(**kwargs)


async def call_slow(function, **kwargs):
    """A service call that waits on an upstream (an LLM answer, speech recognition).

    On the shared thread one ten-second answer would stall every other chat, so it runs on a pool
    thread with a connection of its own, closed afterwards; opening one costs little next to a
    model's answer.
    """
    return await sync_to_async(_on_own_connection(function), thread_sensitive=False)(**kwargs)
