from django.urls import path

from privacy import api

urlpatterns = [
    path("organization/export", api.ExportRequestView.as_view(), name="organization-export"),
    path("organization/exports", api.ExportListView.as_view(), name="organization-export-list"),
    path("organization/exports/<int:export_id>", api.ExportDetailView.as_view(), name="organization-export-detail"),
]
