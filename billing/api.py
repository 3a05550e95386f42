"""Billing API (SPEC §7). Thin: validate, call a service or selector, shape the answer."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import serializers as s
from billing import services
from billing.errors import BillingErrorCode
from billing.models import PaymentProvider, WebhookOutcome
from billing.selectors import account_for, history_for
from billing.services.webhooks import receive_webhook
from botgeneric.errors import DomainError
from botgeneric.openapi import ERROR_RESPONSES, ErrorBody
from botgeneric.pagination import LimitOffsetPagination, limit_offset_parameters
from tenants.errors import TenantErrorCode
from tenants.permissions import BillingScope


class ForbiddenRole(DomainError):
    code = TenantErrorCode.FORBIDDEN_ROLE
    http_status = 403


class CanManageBilling(BasePermission):
    """Only an organization's owner or admin may change what it pays for."""

    def has_permission(self, request, view):
        user = request.user
        if not user.organization_id or not user.can_manage_organization:
            raise ForbiddenRole(detail="Only the organization's owner or an admin can manage billing.")
        return True


def _default_return_url(request) -> str:
    return request.build_absolute_uri("/dashboard/")


BILLING_ERRORS = {
    **ERROR_RESPONSES,
    409: OpenApiResponse(
        ErrorBody, description="The subscription changed meanwhile (changed_meanwhile, confirmation_stale)"
    ),
    502: OpenApiResponse(ErrorBody, description="Payment provider failed"),
    503: OpenApiResponse(ErrorBody, description="The billing account is busy (billing_busy)"),
    504: OpenApiResponse(ErrorBody, description="Payment provider did not answer in time (provider_timeout)"),
}


class AccountView(APIView):
    permission_classes = [IsAuthenticated, BillingScope]

    @extend_schema(responses={200: s.AccountOutput, **ERROR_RESPONSES})
    def get(self, request):
        return Response(s.AccountOutput.of(account_for(organization=request.user.organization)))


class PreviewView(APIView):
    """What a subscribe/upgrade/downgrade or a cancellation would do, with the confirmation it needs."""

    permission_classes = [IsAuthenticated, BillingScope, CanManageBilling]

    @extend_schema(request=s.PreviewInput, responses={200: s.PreviewOutput, **BILLING_ERRORS})
    def post(self, request):
        data = s.PreviewInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        confirmable = services.preview_change(
            organization=request.user.organization,
            actor=request.user,
            cancel=values["action"] == "cancel",
            immediate=values["immediate"],
            plan=values.get("plan"),
            provider=values.get("provider", ""),
            currency=values["currency"],
        )
        return Response(s.PreviewOutput.of(confirmable))


class SubscribeView(APIView):
    permission_classes = [IsAuthenticated, BillingScope, CanManageBilling]

    @extend_schema(request=s.SubscribeInput, responses={200: s.SubscribeOutput, **BILLING_ERRORS})
    def post(self, request):
        data = s.SubscribeInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.subscribe(
            organization=request.user.organization,
            plan=data.validated_data["plan"],
            provider=data.validated_data["provider"],
            currency=data.validated_data["currency"],
            return_url=data.validated_data["return_url"] or _default_return_url(request),
            actor=request.user,
            confirmation=data.validated_data.get("confirmation"),
        )
        body = {
            **s.AccountOutput.of(result.account),
            "checkout_url": result.checkout_url,
            "payment_id": result.payment.pk if result.payment else None,
        }
        return Response(body)


class CancelView(APIView):
    permission_classes = [IsAuthenticated, BillingScope, CanManageBilling]

    @extend_schema(request=s.CancelInput, responses={200: s.AccountOutput, **BILLING_ERRORS})
    def post(self, request):
        data = s.CancelInput(data=request.data)
        data.is_valid(raise_exception=True)
        account = services.cancel(
            organization=request.user.organization,
            immediate=data.validated_data["immediate"],
            actor=request.user,
            confirmation=data.validated_data.get("confirmation"),
        )
        return Response(s.AccountOutput.of(account))


class ResumeView(APIView):
    permission_classes = [IsAuthenticated, BillingScope, CanManageBilling]

    @extend_schema(request=None, responses={200: s.AccountOutput, **BILLING_ERRORS})
    def post(self, request):
        account = services.resume(organization=request.user.organization, actor=request.user)
        return Response(s.AccountOutput.of(account))


class UndoDowngradeView(APIView):
    """Take back a scheduled downgrade: the subscription renews on its current plan."""

    permission_classes = [IsAuthenticated, BillingScope, CanManageBilling]

    @extend_schema(request=None, responses={200: s.AccountOutput, **BILLING_ERRORS})
    def post(self, request):
        account = services.undo_downgrade(organization=request.user.organization, actor=request.user)
        return Response(s.AccountOutput.of(account))


class PaymentView(APIView):
    permission_classes = [IsAuthenticated, BillingScope, CanManageBilling]

    @extend_schema(request=s.PaymentInput, responses={201: s.PaymentOutput, **BILLING_ERRORS})
    def post(self, request):
        data = s.PaymentInput(data=request.data)
        data.is_valid(raise_exception=True)
        payment = services.start_payment(
            organization=request.user.organization,
            provider=data.validated_data["provider"],
            plan=data.validated_data["plan"],
            currency=data.validated_data["currency"],
            return_url=data.validated_data["return_url"] or _default_return_url(request),
            actor=request.user,
        )
        body = {
            "payment_id": payment.pk,
            "provider_payment_id": payment.external_id,
            "confirmation_url": payment.confirmation_url,
        }
        return Response(s.PaymentOutput(body).data, status=201)


class HistoryPagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 200


class HistoryView(APIView):
    permission_classes = [IsAuthenticated, BillingScope]

    @extend_schema(
        parameters=limit_offset_parameters(HistoryPagination),
        responses={200: s.HistoryPage, **ERROR_RESPONSES},
    )
    def get(self, request):
        paginator = HistoryPagination()
        limit = paginator.get_limit(request)
        offset = paginator.get_offset(request)
        if request.user.organization_id is None:
            total, rows = 0, []
        else:
            total, rows = history_for(organization=request.user.organization, offset=offset, limit=limit)
        paginator.count, paginator.limit, paginator.offset, paginator.request = total, limit, offset, request
        return Response(
            {
                "count": total,
                "next": paginator.get_next_link(),
                "previous": paginator.get_previous_link(),
                "results": [s.HistoryItem.of(kind, row) for kind, row in rows],
            }
        )


class WebhookView(APIView):
    """Provider webhooks: no user authentication, the provider is verified by signature or source IP."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    provider = ""

    @extend_schema(
        request={"application/json": OpenApiTypes.OBJECT},
        responses={
            200: s.WebhookOutput,
            400: OpenApiResponse(ErrorBody, description="Bad signature or payload"),
            403: OpenApiResponse(ErrorBody, description="Untrusted source address"),
            404: OpenApiResponse(ErrorBody, description="provider_disabled: the provider is not enabled here"),
            500: OpenApiResponse(ErrorBody, description="Processing failed; the event is kept for a retry"),
        },
    )
    def post(self, request):
        event = receive_webhook(provider=self.provider, request=request)
        if event.outcome == WebhookOutcome.FAILED:
            raise DomainError(BillingErrorCode.WEBHOOK_FAILED, http_status=500)
        return Response(s.WebhookOutput({"event_id": event.event_id, "outcome": event.outcome}).data)


class PaddleWebhookView(WebhookView):
    provider = PaymentProvider.PADDLE


class YooKassaWebhookView(WebhookView):
    provider = PaymentProvider.YOOKASSA
