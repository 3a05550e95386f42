from django.urls import path

from channels_web.views import account, billing, dashboard, members, privacy, stream, webhooks

app_name = "web"

urlpatterns = [
    path("", account.home, name="home"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/c/<int:conversation_id>/", dashboard.dashboard, name="conversation"),
    path("dashboard/c/<int:conversation_id>/rename/", dashboard.conversation_rename, name="conversation_rename"),
    path("dashboard/c/<int:conversation_id>/delete/", dashboard.conversation_delete, name="conversation_delete"),
    path("dashboard/stream/", stream.dashboard_stream, name="dashboard_stream"),
    path("billing/", billing.billing_page, name="billing"),
    path("billing/subscribe/", billing.subscribe_view, name="billing_subscribe"),
    path("billing/cancel/", billing.cancel_view, name="billing_cancel"),
    path("billing/resume/", billing.resume_view, name="billing_resume"),
    path("organization/", account.organization, name="organization"),
    path("organization/api-keys/", account.api_key_create, name="api_key_create"),
    path("organization/api-keys/<int:key_id>/revoke/", account.api_key_revoke, name="api_key_revoke"),
    path("organization/data/", privacy.your_data, name="your_data"),
    path("organization/data/export/", privacy.export_request, name="export_request"),
    path("organization/data/exports/<int:export_id>/download/", privacy.export_download, name="export_download"),
    path("organization/delete/", privacy.organization_delete, name="organization_delete"),
    path("organization/restore/", privacy.organization_restore, name="organization_restore"),
    path("organization/rename/", members.rename, name="organization_rename"),
    path("organization/invitations/", members.invite, name="invite"),
    path("organization/invitations/<int:invitation_id>/revoke/", members.invitation_revoke, name="invitation_revoke"),
    path("organization/members/<int:member_id>/role/", members.member_role, name="member_role"),
    path("organization/members/<int:member_id>/remove/", members.member_remove, name="member_remove"),
    path("organization/members/<int:member_id>/transfer/", members.transfer, name="transfer_ownership"),
    path("invitations/<str:token>/", members.invitation, name="invitation"),
    path("profile/", account.profile, name="profile"),
    path("profile/delete/", privacy.account_delete, name="account_delete"),
    path("webhooks/", webhooks.webhooks, name="webhooks"),
    path("webhooks/new/", webhooks.webhook_create, name="webhook_create"),
    path("webhooks/<int:endpoint_id>/", webhooks.webhook_detail, name="webhook_detail"),
    path("webhooks/<int:endpoint_id>/rotate/", webhooks.webhook_rotate, name="webhook_rotate"),
    path("webhooks/<int:endpoint_id>/delete/", webhooks.webhook_delete, name="webhook_delete"),
    path(
        "webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/resend/",
        webhooks.webhook_resend,
        name="webhook_resend",
    ),
]
