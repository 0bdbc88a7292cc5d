"""Routes of the stations API (included under /api/v1/)."""

from cms.api.routers import OrganizationRouter, TenantRouter
from stations.api.views import ChargingStationViewSet

router = TenantRouter()
router.register("stations", ChargingStationViewSet, basename="station")
org_router = OrganizationRouter()

urlpatterns = router.urls + org_router.urls
