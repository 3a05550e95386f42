"""The dashboard's streaming answer: the chat script posts the form here and reads Server-Sent Events.

`delta` events carry text as it arrives (the script inserts it as text), one `done` event the stored
answer as sanitized HTML with its usage line, an `error` event a refusal or failure in words. The
view is async: it holds no thread while the model writes. When the reader goes away (the Stop
button aborts the fetch, or the tab closes), the server cancels this response, which closes the
service's stream: the upstream call stops and what was delivered is metered (agents.services).
Without JavaScript the plain form post (views.dashboard) does the same job in one response.
"""

import json
from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.http import HttpResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agents.services import StreamDone, TextDelta, invoke_stream
from botgeneric.channels import Channel
from botgeneric.errors import DomainError
from channels_web.answer_html import answer_html
from channels_web.forms import SendForm
from channels_web.messages import describe_error
from channels_web.views.dashboard import agent_for_message
from policy.selectors import agents_for

EVENT_STREAM = "text/event-stream"


def _event(name: str, payload: dict) -> bytes:
    return f"event: {name}\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n".encode()


def _error_event(error: DomainError) -> bytes:
    message = describe_error(error)
    return _event("error", {"text": message.text, "link_url": message.link_url, "link_text": message.link_text})


def _refusal(body: bytes, status: int) -> HttpResponse:
    return HttpResponse(body, status=status, content_type=EVENT_STREAM)


def _message_of(user, post) -> tuple[SendForm, object, object]:
    """The validated form, and for a valid one the agent and conversation of the message, read as the
    user (a conversation of someone else is a 404)."""
    form = SendForm(post, agents=list(agents_for(user=user, channel=Channel.WEB)))
    if not form.is_valid():
        return form, None, None
    agent, conversation = agent_for_message(user, form.cleaned_data)
    return form, agent, conversation


def _done_event(result) -> bytes:
    meta = _("Tokens: %(tin)s in, %(tout)s out") % {"tin": result.tokens_input, "tout": result.tokens_output}
    meta += " · " + _("%(ms)s ms, prompt v%(version)s") % {
        "ms": result.latency_ms,
        "version": result.prompt_version,
    }
    return _event(
        "done",
        {
            "conversation_id": result.conversation.pk,
            "url": reverse("web:conversation", args=[result.conversation.pk]),
            "html": str(answer_html(result.output)),
            "meta": meta,
            "is_demo": result.is_demo,
        },
    )


async def _as_bytes(event: TextDelta | StreamDone) -> bytes:
    if isinstance(event, TextDelta):
        return _event("delta", {"text": event.text})
    return await sync_to_async(_done_event)(event.result)


async def _events(user, agent, conversation, input: str) -> AsyncIterator[bytes]:
    """The service's events as SSE; a refusal or failure is an `error` event. Closing this (the reader
    left) closes the service's stream, which stops the upstream and meters what was delivered."""
    stream = invoke_stream(user=user, agent=agent, channel=Channel.WEB, input=input, conversation=conversation)
    delivered = False
    try:
        async for event in stream:
            yield await _as_bytes(event)
            delivered = True
    except DomainError as error:
        if delivered:
            text = _("The model provider stopped in the middle of this answer. Only the part above was charged.")
            yield _event("error", {"text": text})
        else:
            yield await sync_to_async(_error_event)(error)
    finally:
        await stream.aclose()


@require_POST
async def dashboard_stream(request):
    user = await request.auser()
    if not user.is_authenticated:
        return _refusal(_event("error", {"text": _("Please log in again.")}), 401)
    try:
        form, agent, conversation = await sync_to_async(_message_of)(user, request.POST)
    except DomainError as error:
        return _refusal(await sync_to_async(_error_event)(error), error.http_status)
    if agent is None:
        text = " ".join(str(error) for errors in form.errors.values() for error in errors)
        return _refusal(_event("error", {"text": text}), 400)
    # The whole stream, refusals included, runs in the response's iteration: one event loop from the
    # first byte to the last, whichever server (ASGI, or WSGI collecting it) iterates it.
    response = StreamingHttpResponse(
        _events(user, agent, conversation, form.cleaned_data["input"]), content_type=EVENT_STREAM
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
