from django.urls import path
from rest_framework.routers import SimpleRouter

from leads import api

router = SimpleRouter(trailing_slash=False)
router.register("leads", api.LeadViewSet, basename="lead")

urlpatterns = [path("leads/notices", api.LeadNoticesView.as_view(), name="lead-notices"), *router.urls]
