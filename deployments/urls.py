from rest_framework.routers import SimpleRouter

from deployments import api

router = SimpleRouter(trailing_slash=False)
router.register("deployments", api.DeploymentViewSet, basename="deployment")
router.register("contacts", api.ContactViewSet, basename="contact")
router.register("client-conversations", api.ClientConversationViewSet, basename="client-conversation")

urlpatterns = router.urls
