"""`x-request-id` on every response, and on every log line written while the request is handled.

A valid incoming `X-Request-ID` (a proxy's, a client's) is kept so one id follows the request through
every hop; otherwise we make one. The console log handler's RequestIdFilter puts it on each record as
`request_id` (the LOGGING format prints it; "-" outside a request), and the id of the Celery task being
run as `task_id`. A context variable follows the request into the threads its sync code runs in.
"""

import contextvars
import logging
import re
import uuid

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from celery import current_task

HEADER = "x-request-id"
VALID = re.compile(r"^[A-Za-z0-9._:=+/@-]{1,128}$")
current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class RequestIdFilter(logging.Filter):
    """Adds `request_id` and `task_id` to every record a handler writes (LOGGING's console handler)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        record.task_id = (current_task.request.id if current_task else None) or "-"
        return True


def _request_id(request) -> str:
    incoming = request.headers.get(HEADER, "")
    return incoming if VALID.match(incoming) else f"req_{uuid.uuid4().hex}"


class RequestIdMiddleware:
    """Sets `request.request_id` and the context variable the log records read; answers with the header."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self._acall(request)
        request.request_id = _request_id(request)
        current_request_id.set(request.request_id)
        response = self.get_response(request)
        response[HEADER] = request.request_id
        return response

    async def _acall(self, request):
        request.request_id = _request_id(request)
        current_request_id.set(request.request_id)
        response = await self.get_response(request)
        response[HEADER] = request.request_id
        return response
