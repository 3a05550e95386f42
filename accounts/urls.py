from django.urls import path

from accounts import api, telegram_api

urlpatterns = [
    path("auth/register", api.RegisterView.as_view(), name="auth-register"),
    path("auth/login", api.LoginView.as_view(), name="auth-login"),
    path("auth/refresh", api.RefreshView.as_view(), name="auth-refresh"),
    path("auth/logout", api.LogoutView.as_view(), name="auth-logout"),
    path("auth/profile", api.ProfileView.as_view(), name="auth-profile"),
    path("auth/locale", api.LocaleView.as_view(), name="auth-locale"),
    path("auth/telegram", telegram_api.TelegramLoginView.as_view(), name="auth-telegram"),
]
