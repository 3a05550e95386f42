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
