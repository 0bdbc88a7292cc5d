"""Routes of the OCPP gateway API (included under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from ocpp_gateway.api.views import CommandLogViewSet

router = SimpleRouter()
router.register("command-logs", CommandLogViewSet, basename="commandlog")

urlpatterns = router.urls
