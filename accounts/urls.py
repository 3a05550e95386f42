from django.urls import path, re_path

from accounts import api, social_api, telegram_api

urlpatterns = [
    path("auth/register", api.RegisterView.as_view(), name="auth-register"),
    path("auth/login", api.LoginView.as_view(), name="auth-login"),
    path("auth/refresh", api.RefreshView.as_view(), name="auth-refresh"),
    path("auth/logout", api.LogoutView.as_view(), name="auth-logout"),
    path("auth/profile", api.ProfileView.as_view(), name="auth-profile"),
    path("auth/locale", api.LocaleView.as_view(), name="auth-locale"),
    path("auth/telegram", telegram_api.TelegramLoginView.as_view(), name="auth-telegram"),
    re_path(r"^auth/social/(?P<provider>google|apple)$", social_api.SocialLoginView.as_view(), name="auth-social"),
]
