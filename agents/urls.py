from django.urls import path
from rest_framework.routers import SimpleRouter

from agents import api

router = SimpleRouter(trailing_slash=False)
router.register("agents", api.AgentViewSet, basename="agent")
router.register("conversations", api.ConversationViewSet, basename="conversation")

urlpatterns = [
    path("agents/<int:pk>/invoke", api.AgentInvokeView.as_view(), name="agent-invoke"),
    *router.urls,
]
