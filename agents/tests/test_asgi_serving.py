"""Under the ASGI server a streamed answer holds no thread while it waits on the model: the streaming
views are coroutines and no middleware makes Django run the request in a thread around them."""

import logging

from asgiref.sync import iscoroutinefunction
from django.core.handlers.asgi import ASGIHandler
from django.urls import resolve


def test_no_middleware_is_adapted_to_sync_in_the_asgi_handler(settings, caplog):
    settings.DEBUG = True  # Django reports each adaptation (at DEBUG) only then

    with caplog.at_level(logging.DEBUG, logger="django.request"):
        ASGIHandler()

    assert [record.getMessage() for record in caplog.records if "adapted" in record.getMessage()] == []


def test_the_streaming_endpoints_are_async_views():
    for path in ("/api/v1/agents/1/invoke", "/api/v1/openai/chat/completions"):
        assert iscoroutinefunction(resolve(path).func), path
