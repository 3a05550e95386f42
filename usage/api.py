"""GET /api/v1/billing/usage: the caller's organization's usage this billing period; GET /api/v1/usage/daily:
its usage per day (Advanced analytics)."""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.analytics import Window
from botgeneric.openapi import ERROR_RESPONSES, ErrorBody
from botgeneric.pagination import LimitOffsetPagination, limit_offset_parameters
from policy.selectors import usage_summary
from policy.services import require_feature
from tenants.permissions import ApiKeyScopes
from usage.analytics import ANALYTICS_FEATURE, CUSTOMER_GROUPS, customer_usage
from usage.forms import MAX_DAYS
from usage.rollups import bring_up_to_date

DEFAULT_DAYS = 30


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


class UsageDailyQuery(serializers.Serializer):
    locals()["from"] = serializers.DateField(required=False, help_text="First UTC day (default: 29 days before `to`).")
    to = serializers.DateField(required=False, help_text="Last UTC day, included (default: today).")
    group_by = serializers.ChoiceField(
        choices=sorted(CUSTOMER_GROUPS), required=False, help_text="Also split each day by agent, member or channel."
    )

    def validate(self, attrs):
        end = attrs.get("to") or timezone.now().date()
        start = attrs.get("from") or end - timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise serializers.ValidationError({"from": ["Must not be after `to`."]})
        if (end - start).days + 1 > MAX_DAYS:
            raise serializers.ValidationError({"from": [f"At most {MAX_DAYS} days at a time."]})
        return {"window": Window(start, end), "group_by": attrs.get("group_by")}


class UsageDailyRow(serializers.Serializer):
    day = serializers.DateField()
    key = serializers.CharField(
        required=False, allow_null=True, help_text="With group_by: the agent id, member (user) id or channel."
    )
    label = serializers.CharField(required=False, help_text="With group_by: agent name, member e-mail or channel.")
    requests = serializers.IntegerField()
    ok = serializers.IntegerField(help_text="Answered.")
    denied = serializers.IntegerField()
    failed = serializers.IntegerField()
    tokens_input = serializers.IntegerField()
    tokens_output = serializers.IntegerField()
    audio_seconds = serializers.IntegerField()


class UsageDailyPage(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = UsageDailyRow(many=True)


class UsageDailyPagination(LimitOffsetPagination):
    default_limit = 400  # a year of days in one page, when not grouped


class UsageDailyView(APIView):
    """The organization's usage per UTC day (Advanced analytics: plans without it answer 403 feature_not_in_plan
    with `upgrade_plans`). Figures come from the daily roll-up, at most a minute behind."""

    permission_classes = [IsAuthenticated, ApiKeyScopes]
    pagination_class = UsageDailyPagination

    @extend_schema(
        operation_id="usage_daily",
        parameters=[UsageDailyQuery, *limit_offset_parameters(UsageDailyPagination)],
        responses={
            200: UsageDailyPage,
            402: OpenApiResponse(ErrorBody, description="no_subscription / subscription_inactive"),
            **ERROR_RESPONSES,
        },
    )
    def get(self, request):
        query = UsageDailyQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        organization = request.user.organization
        require_feature(organization_id=organization.pk if organization else None, feature=ANALYTICS_FEATURE)
        bring_up_to_date()
        rows = customer_usage(organization=organization, **query.validated_data)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(rows, request, view=self)
        for row in page:
            if row.get("key") is not None:
                row["key"] = str(row["key"])
        return paginator.get_paginated_response(UsageDailyRow(page, many=True).data)
