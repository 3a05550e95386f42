from django.urls import path
from rest_framework.routers import SimpleRouter

from deployments import api, views

router = SimpleRouter(trailing_slash=False)
router.register("deployments", api.DeploymentViewSet, basename="deployment")
router.register("contacts", api.ContactViewSet, basename="contact")
router.register("client-conversations", api.ClientConversationViewSet, basename="client-conversation")

# Under /api/v1/.
urlpatterns = router.urls

# Under /widget/: what the website widget's script calls from the visitor's browser.
widget_urlpatterns = [
    path("<str:public_key>/session", views.session, name="widget_session"),
    path("<str:public_key>/messages", views.messages, name="widget_messages"),
]
