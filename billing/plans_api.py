"""GET /api/v1/billing/plans: the public price list (no authentication)."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny

from billing.models import Plan, PlanPrice
from billing.selectors import active_plans
from botgeneric.channels import CUSTOMER_CHANNELS


class PlanPriceOutput(serializers.ModelSerializer):
    class Meta:
        model = PlanPrice
        fields = ["currency", "amount"]


class PlanAgentOutput(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()


class PlanQuotasOutput(serializers.Serializer):
    """Per billing period; null means unlimited."""

    requests = serializers.IntegerField(source="quota_requests", allow_null=True)
    tokens_input = serializers.IntegerField(source="quota_tokens_input", allow_null=True)
    tokens_output = serializers.IntegerField(source="quota_tokens_output", allow_null=True)


class PlanOutput(serializers.ModelSerializer):
    quotas = PlanQuotasOutput(source="*")
    channels = serializers.ListField(child=serializers.ChoiceField(choices=CUSTOMER_CHANNELS))
    features = serializers.ListField(child=serializers.CharField())
    prices = PlanPriceOutput(many=True)
    agents = PlanAgentOutput(many=True)

    class Meta:
        model = Plan
        fields = [
            "code",
            "name",
            "name_ru",
            "description",
            "interval",
            "trial_days",
            "quotas",
            "channels",
            "features",
            "prices",
            "agents",
        ]


@extend_schema(tags=["billing"], summary="Active plans with prices, quotas, channels and agents")
class PlanListView(generics.ListAPIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    pagination_class = None
    serializer_class = PlanOutput

    def get_queryset(self):
        return active_plans()
