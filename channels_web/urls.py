from django.urls import path

from channels_web.views import account

app_name = "web"

urlpatterns = [
    path("", account.home, name="home"),
    path("organization/", account.organization, name="organization"),
    path("organization/api-keys/", account.api_key_create, name="api_key_create"),
    path("organization/api-keys/<int:key_id>/revoke/", account.api_key_revoke, name="api_key_revoke"),
    path("profile/", account.profile, name="profile"),
]
