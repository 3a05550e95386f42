from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from accounts import api, organization_api, social_api, telegram_api

router = SimpleRouter(trailing_slash=False)
router.register("organization/members", organization_api.MemberViewSet, basename="organization-member")
router.register("organization/invitations", organization_api.InvitationViewSet, basename="organization-invitation")

urlpatterns = [
    path("auth/register", api.RegisterView.as_view(), name="auth-register"),
    path("auth/login", api.LoginView.as_view(), name="auth-login"),
    path("auth/refresh", api.RefreshView.as_view(), name="auth-refresh"),
    path("auth/logout", api.LogoutView.as_view(), name="auth-logout"),
    path("auth/profile", api.ProfileView.as_view(), name="auth-profile"),
    path("auth/locale", api.LocaleView.as_view(), name="auth-locale"),
    path("auth/telegram", telegram_api.TelegramLoginView.as_view(), name="auth-telegram"),
    re_path(r"^auth/social/(?P<provider>google|apple)$", social_api.SocialLoginView.as_view(), name="auth-social"),
    path("organization", organization_api.OrganizationView.as_view(), name="organization"),
    path(
        "organization/transfer-ownership",
        organization_api.TransferOwnershipView.as_view(),
        name="organization-transfer-ownership",
    ),
    path("invitations/accept", organization_api.AcceptInvitationView.as_view(), name="invitation-accept"),
    *router.urls,
]
