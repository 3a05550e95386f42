from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from botgeneric import admin_console  # noqa: F401  (brands the console, hides internal models)
from botgeneric.health import healthz, readyz
from botgeneric.metrics import metrics_view
from deployments.urls import widget_urlpatterns
from usage.views import operator_analytics

api_v1 = [
    path("", include("accounts.urls")),
    path("", include("tenants.urls")),
    path("", include("agents.urls")),
    path("", include("billing.urls")),
    path("", include("usage.urls")),
    path("", include("policy.urls")),
    path("", include("deployments.urls")),
    path("", include("leads.urls")),
    path("", include("privacy.urls")),
    path("", include("webhooks.urls")),
    path("openai/", include("agents.openai_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/analytics/", admin.site.admin_view(operator_analytics), name="admin-analytics"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("telegram/", include("channels_tg.urls")),
    path("widget/", include((widget_urlpatterns, "widget"))),
    path("", include("channels_web.urls")),
]

# Under /api/ the answers to unmatched paths, oversized bodies and crashes are JSON in the API's shape.
handler400 = "botgeneric.error_views.bad_request"
handler403 = "botgeneric.error_views.permission_denied"
handler404 = "botgeneric.error_views.page_not_found"
handler500 = "botgeneric.error_views.server_error"
