from django.urls import path

from channels_tg import views

app_name = "channels_tg"

urlpatterns = [
    path("webhook/", views.webhook, name="webhook"),
    path("deployments/<int:deployment_id>/webhook", views.deployment_webhook, name="deployment_webhook"),
]
