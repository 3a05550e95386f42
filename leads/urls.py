from rest_framework.routers import SimpleRouter

from leads import api

router = SimpleRouter(trailing_slash=False)
router.register("leads", api.LeadViewSet, basename="lead")

urlpatterns = router.urls
