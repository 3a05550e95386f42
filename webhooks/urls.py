from rest_framework.routers import SimpleRouter

from webhooks import api

router = SimpleRouter(trailing_slash=False)
router.register("webhook-endpoints", api.WebhookEndpointViewSet, basename="webhook-endpoint")

# Under /api/v1/.
urlpatterns = router.urls
