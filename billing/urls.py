from django.urls import path

from billing import api
from billing.plans_api import PlanListView

urlpatterns = [
    path("billing/plans", PlanListView.as_view(), name="billing-plans"),
    path("billing/account", api.AccountView.as_view(), name="billing-account"),
    path("billing/preview", api.PreviewView.as_view(), name="billing-preview"),
    path("billing/subscribe", api.SubscribeView.as_view(), name="billing-subscribe"),
    path("billing/cancel", api.CancelView.as_view(), name="billing-cancel"),
    path("billing/resume", api.ResumeView.as_view(), name="billing-resume"),
    path("billing/undo-downgrade", api.UndoDowngradeView.as_view(), name="billing-undo-downgrade"),
    path("billing/payment", api.PaymentView.as_view(), name="billing-payment"),
    path("billing/history", api.HistoryView.as_view(), name="billing-history"),
    path("billing/webhooks/paddle", api.PaddleWebhookView.as_view(), name="billing-webhook-paddle"),
    path("billing/webhooks/yookassa", api.YooKassaWebhookView.as_view(), name="billing-webhook-yookassa"),
]
