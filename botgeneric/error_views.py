"""Django's error pages (handler400/403/404/500), in the API's own error shape under /api/.

DRF answers errors raised inside its views; these answer what never reaches one: a path no URL
matches, a body over DATA_UPLOAD_MAX_MEMORY_SIZE, an unhandled exception. Outside /api/ the pages
stay Django's HTML ones.
"""

from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.views import defaults

from agents.errors import AgentErrorCode
from botgeneric.errors import ApiErrorCode

API_PREFIX = "/api/"
OPENAI_PREFIX = "/api/v1/openai/"
OPENAI_SUPPORTED = "POST chat/completions, POST responses, GET models and GET models/{model}"


def _api_error(request, *, status: int, code: ApiErrorCode, detail: str = "") -> JsonResponse:
    """`{"code", "detail"}`, or OpenAI's `{"error": {...}}` under the OpenAI-compatible endpoint."""
    code, detail = code.value, detail or code.label
    if request.path.startswith(OPENAI_PREFIX):
        error_type = "api_error" if status >= 500 else "invalid_request_error"
        body = {"error": {"message": detail, "type": error_type, "code": code, "param": None}}
    else:
        body = {"code": code, "detail": detail}
    return JsonResponse(body, status=status)


def bad_request(request, exception, template_name=defaults.ERROR_400_TEMPLATE_NAME):
    if not request.path.startswith(API_PREFIX):
        return defaults.bad_request(request, exception, template_name)
    if isinstance(exception, RequestDataTooBig):
        return _api_error(request, status=413, code=ApiErrorCode.PAYLOAD_TOO_LARGE)
    return _api_error(request, status=400, code=ApiErrorCode.BAD_REQUEST)


def permission_denied(request, exception, template_name=defaults.ERROR_403_TEMPLATE_NAME):
    if not request.path.startswith(API_PREFIX):
        return defaults.permission_denied(request, exception, template_name)
    return _api_error(request, status=403, code=ApiErrorCode.PERMISSION_DENIED)


def page_not_found(request, exception, template_name=defaults.ERROR_404_TEMPLATE_NAME):
    if not request.path.startswith(API_PREFIX):
        return defaults.page_not_found(request, exception, template_name)
    if request.path.startswith(OPENAI_PREFIX):
        return _api_error(
            request,
            status=404,
            code=AgentErrorCode.UNKNOWN_URL,
            detail=f"No such endpoint: {request.method} {request.path}. This OpenAI-compatible API offers "
            f"{OPENAI_SUPPORTED}; not the legacy completions, embeddings, images or audio endpoints.",
        )
    return _api_error(
        request, status=404, code=ApiErrorCode.NOT_FOUND, detail=f"No such endpoint: {request.method} {request.path}"
    )


def server_error(request, template_name=defaults.ERROR_500_TEMPLATE_NAME):
    if not request.path.startswith(API_PREFIX):
        return defaults.server_error(request, template_name)
    return _api_error(request, status=500, code=ApiErrorCode.SERVER_ERROR)
