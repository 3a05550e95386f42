"""The floor: the least an invoke costs in this project's shape, whatever our own code does.

Served only by the benchmarks (`bench.floor_settings` appends it to the project's URLconf): the
project's middleware and settings — called with the benchmark's API key in the Authorization header, so
the middleware treats it as the API call it stands for (the key itself is not checked) — and a DRF
async view (`agents.streaming.AsyncAPIView`, the invoke's own base) that does what any metered call
must: one trip to the request's thread with one SQL statement before the call (a reservation), the
provider call through the openai SDK as the runtime makes it, one trip with one SQL statement after it
(the settle). None of what makes it ours: no authentication, no policy, no counters, no conversation,
no usage event. `"stream": true` answers `delta` events as the words arrive, then `done`, as the invoke
does. What an invoke costs above this is our code; what this costs is Django, DRF, the ASGI server,
psycopg and the SDK.
"""

import json

from asgiref.sync import sync_to_async
from django.db import connection
from django.urls import path
from rest_framework.response import Response

from agents import runtime
from agents.selectors import access_agent
from agents.services import release_connection
from agents.streaming import AsyncAPIView, event_stream_response
from botgeneric.prepared_statements import fetch_one
from botgeneric.urls import urlpatterns as project_urlpatterns


def _one_statement() -> None:
    try:
        fetch_one(connection, "SELECT %s", [1])
    finally:
        release_connection()


class FloorView(AsyncAPIView):
    authentication_classes = ()
    permission_classes = ()
    agents: dict = {}  # noqa: RUF012 — the agent with its prompt and provider, read once per process

    def prepare(self, request, pk=None):
        _one_statement()
        if pk not in self.agents:
            self.agents[pk] = access_agent(agent_id=pk)
        return runtime.prepare(agent=self.agents[pk], input=str(request.data["input"]), variables={}, history=[])

    async def post(self, request, call, pk=None):
        stream = runtime.UpstreamStream(call)
        if request.data.get("stream"):
            return await event_stream_response(request, _events(stream))
        async for _piece in stream:
            pass
        await sync_to_async(_one_statement)()
        return Response({"output": stream.output})


async def _events(stream: runtime.UpstreamStream):
    async for piece in stream:
        yield f"event: delta\ndata: {json.dumps({'text': piece})}\n\n"
    await sync_to_async(_one_statement)()
    yield "event: done\ndata: {}\n\n"


urlpatterns = [*project_urlpatterns, path("api/v1/bench/floor/<int:pk>", FloorView.as_view())]
