"""Shared OpenAPI pieces: the one error body every endpoint answers with."""

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

# What some errors add to the body, by code (clients switch on `code`, then read these).
ERROR_EXTRAS = {
    "fields": serializers.DictField(required=False, help_text="invalid: the reasons per field."),
    "upgrade_plans": serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text="agent_not_in_plan: plans that include the agent; seats_exhausted: plans with more seats.",
    ),
    "retry_after": serializers.IntegerField(required=False, help_text="rate_limited: seconds to wait (Retry-After)."),
    "metric": serializers.CharField(
        required=False, help_text="quota_exceeded: requests, tokens_input or tokens_output."
    ),
    "limit": serializers.IntegerField(
        required=False, help_text="quota_exceeded, rate_limited, seats_exhausted: the limit."
    ),
    "used": serializers.IntegerField(
        required=False, help_text="quota_exceeded: what this period used; seats_exhausted: seats taken."
    ),
    "resets_at": serializers.DateTimeField(required=False, help_text="quota_exceeded: when the quota resets."),
    "scope": serializers.CharField(required=False, allow_null=True, help_text="insufficient_scope: the scope needed."),
    "reasons": serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="organization_not_empty: what the organization holds (members, payments, conversations, …).",
    ),
}

ErrorBody = inline_serializer(
    name="Error",
    fields={"code": serializers.CharField(), "detail": serializers.CharField(), **ERROR_EXTRAS},
)

# For operations an API key may not call (a signed-in person's own changes): only the JWT scheme applies.
JWT_ONLY = [{"jwtAuth": []}]

ERROR_RESPONSES = {
    400: OpenApiResponse(ErrorBody, description="Invalid input"),
    401: OpenApiResponse(ErrorBody, description="Not authenticated"),
    403: OpenApiResponse(ErrorBody, description="Forbidden"),
    429: OpenApiResponse(ErrorBody, description="Throttled"),
}

# How a link's invitation can be refused (registration with `invitation`, accepting one).
INVITATION_REFUSALS = {
    404: OpenApiResponse(ErrorBody, description="invitation_invalid: no such invitation link"),
    410: OpenApiResponse(ErrorBody, description="invitation_expired / invitation_used / invitation_revoked"),
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
OPENAI_PATH = "/api/v1/openai/"


def public_endpoints(endpoints):
    """Preprocessing hook: what API clients call. Payment providers' webhooks are not theirs to call, and
    the OpenAI-compatible API's aliases (under /v1/, with a trailing slash) are not documented twice."""
    return [(path, *rest) for path, *rest in endpoints if not _hidden(path)]


def _hidden(path: str) -> bool:
    if "/webhooks/" in path:
        return True
    return path.startswith(OPENAI_PATH) and (path.startswith(f"{OPENAI_PATH}v1/") or path.endswith("/"))


def readable_operations(result, generator, request, public):
    """Postprocessing hook: integer ids in paths are integers (not strings with a digits pattern), and an
    action's operation id is its name (`agents_invoke`, `billing_cancel`), not DRF's `*_create`: only a
    POST that creates something (answers 201) keeps the suffix."""
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in _HTTP_METHODS:
                continue
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter.get("in") == "path" and schema.get("pattern") == "^[0-9]+$":
                    parameter["schema"] = {"type": "integer"}
            operation_id = operation.get("operationId", "")
            if method == "post" and operation_id.endswith("_create") and "201" not in operation.get("responses", {}):
                operation["operationId"] = operation_id.removesuffix("_create")
    return result


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
