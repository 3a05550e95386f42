"""One error body for the whole API: {"code": ..., "detail": ..., **extra}."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from botgeneric.errors import ApiErrorCode, DomainError


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        headers = {}
        retry_after = exc.extra.get("retry_after")
        if retry_after is not None:
            headers["Retry-After"] = str(int(retry_after))
        return Response(exc.as_dict(), status=exc.http_status, headers=headers)

    # DRF answers Django's Http404 and PermissionDenied with a bare {"detail"}; give them our shape too.
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {
            "code": ApiErrorCode.INVALID.value,
            "detail": ApiErrorCode.INVALID.label,
            "fields": _field_errors(exc.detail),
        }
    elif isinstance(exc, exceptions.APIException):
        code, detail = _code_and_detail(exc)
        body = {"code": code, "detail": detail}
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            body["retry_after"] = int(exc.wait + 0.999)
        response.data = body
        if code == "user_inactive":  # SPEC §5: a deactivated user is forbidden, not unauthenticated
            response.status_code = status.HTTP_403_FORBIDDEN
    if response.status_code == status.HTTP_401_UNAUTHORIZED and "WWW-Authenticate" not in response:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def _code_and_detail(exc: exceptions.APIException) -> tuple[str, str]:
    """simplejwt reports {"detail", "code", "messages"}; DRF a string detail with its code."""
    if isinstance(exc.detail, dict):
        return str(exc.detail.get("code") or exc.default_code), str(exc.detail.get("detail") or exc.default_detail)
    codes = exc.get_codes()
    return (codes if isinstance(codes, str) else exc.default_code), str(exc.detail)


def _field_errors(detail):
    if isinstance(detail, dict):
        return {key: _field_errors(value) for key, value in detail.items()}
    if isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            return [str(item) for item in detail]
        return [_field_errors(item) for item in detail]
    return [str(detail)]
