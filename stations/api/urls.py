"""Routes of the stations API (included under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from stations.api.views import ChargingStationViewSet

router = SimpleRouter()
router.register("stations", ChargingStationViewSet, basename="station")

urlpatterns = router.urls
