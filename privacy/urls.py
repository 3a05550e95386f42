from django.urls import path

from privacy import api

urlpatterns = [
    path("organization/export", api.ExportRequestView.as_view(), name="organization-export"),
    path("organization/exports", api.ExportListView.as_view(), name="organization-export-list"),
    path("organization/exports/<int:export_id>", api.ExportDetailView.as_view(), name="organization-export-detail"),
    path("organization/delete", api.OrganizationDeleteView.as_view(), name="organization-delete"),
    path("organization/restore", api.OrganizationRestoreView.as_view(), name="organization-restore"),
]
