from django.urls import path

from usage import api

urlpatterns = [
    path("billing/usage", api.UsageView.as_view(), name="billing-usage"),
    path("usage/daily", api.UsageDailyView.as_view(), name="usage-daily"),
]
