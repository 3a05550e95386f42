from django.urls import path

from tenants import api

urlpatterns = [
    path("api-keys", api.ApiKeyListView.as_view(), name="api-key-list"),
    path("api-keys/<int:key_id>", api.ApiKeyDetailView.as_view(), name="api-key-detail"),
]
