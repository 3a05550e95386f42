"""The website widget's endpoints (the customer's page calls them from the visitor's browser).

`POST /widget/<public key>/session` gives (or confirms) a visitor token; `POST /widget/<public key>/messages`
answers as Server-Sent Events (`delta` text, then `done`; `error` with a sentence for the visitor). Only a
page of the deployment's allowed origins gets an answer: others get 403 and no CORS header, so the
browser refuses too. Bodies are JSON sent as `text/plain`, a simple request, so no preflight is needed;
a preflight is answered anyway for clients that send one.
"""

import json
import logging
from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt

from agents.services import StreamDone, TextDelta
from botgeneric.client_address import client_ip
from botgeneric.errors import ApiErrorCode, DomainError
from deployments import answering, selectors, services, widget
from deployments.errors import DeploymentErrorCode
from deployments.models import Deployment

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 4000
MAX_BODY_BYTES = 16_384


def _cors(response: HttpResponse, origin: str) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = origin
    response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = "Content-Type"
    response["Access-Control-Max-Age"] = "600"
    response["Vary"] = "Origin"
    return response


def _error(code: str, detail: str, status: int) -> JsonResponse:
    return JsonResponse({"code": code, "detail": detail}, status=status)


async def _deployment_for(request, public_key: str) -> tuple[Deployment | None, HttpResponse | None]:
    """The deployment, if the request's Origin may use it; else the refusal (403 without CORS headers)."""
    deployment = await sync_to_async(selectors.deployment_for_widget)(public_key=public_key)
    origin = request.headers.get("Origin", "")
    if deployment is None:
        return None, _error("not_found", "No such chat.", 404)
    if not widget.origin_allowed(deployment=deployment, origin=origin):
        logger.info("widget %s refused origin %r", deployment.pk, origin[:200])
        return None, _error("origin_not_allowed", "This website may not use this chat.", 403)
    return deployment, None


def _body(request) -> dict:
    if len(request.body) > MAX_BODY_BYTES:
        raise DomainError(ApiErrorCode.INVALID, "The message is too long.", 400)
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        raise DomainError(ApiErrorCode.INVALID, "The body is not JSON.", 400) from None
    if not isinstance(body, dict):
        raise DomainError(ApiErrorCode.INVALID, "The body is not a JSON object.", 400)
    return body


async def _opened(request, public_key: str) -> tuple[Deployment | None, str, HttpResponse | None]:
    """The deployment and the page's origin for a widget POST, or the answer that ends the call here:
    a refusal, a CORS preflight, another method."""
    deployment, refusal = await _deployment_for(request, public_key)
    if refusal is not None:
        return None, "", refusal
    origin = request.headers["Origin"]
    if request.method == "OPTIONS":
        return None, origin, _cors(HttpResponse(status=204), origin)
    if request.method != "POST":
        return None, origin, _cors(_error("method_not_allowed", "Use POST.", 405), origin)
    return deployment, origin, None


@csrf_exempt
async def session(request, public_key: str) -> HttpResponse:
    """A visitor token for this browser: the one it sent back if still valid, else a new one."""
    deployment, origin, early = await _opened(request, public_key)
    if early is not None:
        return early
    try:
        body = _body(request)
        token = str(body.get("visitor_token") or "")
        if token:
            try:
                widget.visitor_id(deployment=deployment, token=token)
            except widget.BadVisitorToken:
                token = ""
        if not token:
            await sync_to_async(widget.check_new_visitor_rate)(deployment=deployment, ip=client_ip(request))
            token, _ = widget.new_visitor_token(deployment=deployment)
    except DomainError as error:
        return _cors(JsonResponse(error.as_dict(), status=error.http_status), origin)
    payload = {"visitor_token": token, "agent": deployment.agent.name, "live": selectors.is_live(deployment)}
    return _cors(JsonResponse(payload), origin)


def _event(name: str, payload: dict) -> bytes:
    return f"event: {name}\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n".encode()


async def _answer_events(deployment: Deployment, contact, text: str, locale: str) -> AsyncIterator[bytes]:
    delivered = False
    try:
        async for event in answering.answer(deployment=deployment, contact=contact, text=text):
            if isinstance(event, TextDelta):
                delivered = True
                yield _event("delta", {"text": event.text})
            elif isinstance(event, StreamDone):
                yield _event("done", {"conversation_id": event.result.conversation.pk})
    except DomainError as error:
        with translation.override(locale):
            yield _event("error", {"code": error.code, "text": answering.client_message(error), "partial": delivered})


@csrf_exempt
async def messages(request, public_key: str) -> HttpResponse:
    """One visitor message: `{"visitor_token", "text", "locale"?}` → the agent's answer, streamed."""
    deployment, origin, early = await _opened(request, public_key)
    if early is not None:
        return early
    locale = "en"  # until the body says otherwise: the language of a refusal's text
    try:
        body = _body(request)
        visitor = widget.visitor_id(deployment=deployment, token=str(body.get("visitor_token") or ""))
        text = str(body.get("text") or "").replace("\x00", "").strip()
        if not text:
            raise DomainError(
                ApiErrorCode.INVALID, "Write something to send.", 400, {"fields": {"text": ["Required."]}}
            )
        if len(text) > MAX_MESSAGE_CHARS:
            raise DomainError(
                ApiErrorCode.INVALID, "The message is too long.", 400, {"fields": {"text": ["Too long."]}}
            )
        locale = "ru" if str(body.get("locale") or "").lower().startswith("ru") else "en"
        await sync_to_async(widget.check_visitor_rate)(deployment=deployment, visitor=visitor)
        contact = await sync_to_async(services.contact_for)(deployment=deployment, external_id=visitor, locale=locale)
    except DomainError as error:
        body = error.as_dict()
        if error.code == DeploymentErrorCode.VISITOR_RATE_LIMITED:
            with translation.override(locale):
                body["text"] = answering.client_message(error)
        return _cors(JsonResponse(body, status=error.http_status), origin)
    response = StreamingHttpResponse(
        _answer_events(deployment, contact, text, locale), content_type="text/event-stream"
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return _cors(response, origin)
