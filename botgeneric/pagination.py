"""Limit/offset pagination that refuses what it cannot serve, instead of guessing or failing.

DRF's own class silently replaces a bad `limit` with the default and passes any `offset` to the
database (`offset=10**24` was a 500: bigint out of range). Here each must be a whole number within
bounds, or the answer is 400 with the field and the reason; the schema states the bounds.
"""

from drf_spectacular.utils import OpenApiParameter
from rest_framework import pagination
from rest_framework.exceptions import ValidationError

MAX_OFFSET = 1_000_000


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    max_limit = 1000
    max_offset = MAX_OFFSET

    def get_limit(self, request) -> int:
        return self._bounded(request, self.limit_query_param, self.default_limit, 1, self.max_limit)

    def get_offset(self, request) -> int:
        return self._bounded(request, self.offset_query_param, 0, 0, self.max_offset)

    @staticmethod
    def _bounded(request, name: str, default: int, minimum: int, maximum: int) -> int:
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ValidationError({name: ["A whole number is required."]}) from None
        if not minimum <= value <= maximum:
            raise ValidationError({name: [f"Must be between {minimum} and {maximum}."]})
        return value

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {self.limit_query_param: (1, self.max_limit), self.offset_query_param: (0, self.max_offset)}
        for parameter in parameters:
            minimum, maximum = bounds[parameter["name"]]
            parameter["schema"].update(minimum=minimum, maximum=maximum)
        return parameters


def limit_offset_parameters(paginator_class: type[LimitOffsetPagination]) -> list[OpenApiParameter]:
    """The paginator's query parameters for a plain APIView's `extend_schema(parameters=...)`."""
    return [
        OpenApiParameter(parameter["name"], parameter["schema"], required=False, description=parameter["description"])
        for parameter in paginator_class().get_schema_operation_parameters(view=None)
    ]
