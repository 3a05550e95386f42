"""Shared OpenAPI pieces: the one error body every endpoint answers with."""

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

ErrorBody = inline_serializer(
    name="Error",
    fields={
        "code": serializers.CharField(),
        "detail": serializers.CharField(),
        "fields": serializers.DictField(required=False),
    },
)

ERROR_RESPONSES = {
    400: OpenApiResponse(ErrorBody, description="Invalid input"),
    401: OpenApiResponse(ErrorBody, description="Not authenticated"),
    403: OpenApiResponse(ErrorBody, description="Forbidden"),
    429: OpenApiResponse(ErrorBody, description="Throttled"),
}

# Statuses any operation can answer whatever its view says, added where the view did not document them.
_COMMON_ERRORS = {
    "400": "Invalid input",
    "401": "Not authenticated, or the token or key is not valid",
    "403": "Forbidden",
    "404": "Not found (also any id of another organization)",
    "413": "Request body too large",
    "415": "Request body is not JSON",
}
_HTTP_METHODS = {"get", "put", "post", "patch", "delete"}


def document_common_errors(result, generator, request, public):
    """Postprocessing hook: every operation documents the errors the framework itself can answer —
    400 for a body or query to validate, 401/403 where a credential is read, 404 for a path with an
    id, 413/415 for a body — in the error shape of its API (OpenAI's under /api/v1/openai/)."""
    for path, operations in result.get("paths", {}).items():
        error_ref = "#/components/schemas/OpenAIError" if path.startswith("/api/v1/openai/") else None
        for method, operation in operations.items():
            if method not in _HTTP_METHODS:
                continue
            statuses = set()
            if "requestBody" in operation:
                statuses |= {"400", "413", "415"}
            if any(parameter.get("in") == "query" for parameter in operation.get("parameters", [])):
                statuses.add("400")
            if operation.get("security"):
                statuses |= {"401", "403"}
            if "{" in path:
                statuses.add("404")
            responses = operation.setdefault("responses", {})
            schema = {"$ref": error_ref or "#/components/schemas/Error"}
            for status in sorted(statuses - set(responses)):
                responses[status] = {
                    "content": {"application/json": {"schema": schema}},
                    "description": _COMMON_ERRORS[status],
                }
    return result
