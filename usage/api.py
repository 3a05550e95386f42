"""GET /api/v1/billing/usage: the caller's organization's usage this billing period."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from botgeneric.openapi import ERROR_RESPONSES
from policy.selectors import usage_summary
from tenants.permissions import ApiKeyScopes


class UsageMetricOutput(serializers.Serializer):
    metric = serializers.ChoiceField(choices=["requests", "tokens_input", "tokens_output"])
    used = serializers.IntegerField()
    limit = serializers.IntegerField(allow_null=True, help_text="null = unlimited")
    period_start = serializers.DateTimeField()
    period_end = serializers.DateTimeField()


class UsageSummaryOutput(serializers.Serializer):
    metrics = UsageMetricOutput(many=True)


class UsageView(APIView):
    permission_classes = [IsAuthenticated, ApiKeyScopes]

    @extend_schema(responses={200: UsageSummaryOutput, **ERROR_RESPONSES})
    def get(self, request):
        return Response(UsageSummaryOutput({"metrics": usage_summary(organization=request.user.organization)}).data)
