"""Routes of the stations API (included under /api/v1/)."""

from core.api.routers import OrganizationRouter, TenantRouter
from stations.api.views import (
    ChargingProfileViewSet,
    ChargingStationViewSet,
    ConnectorViewSet,
    SiteViewSet,
)

router = TenantRouter()
router.register("sites", SiteViewSet, basename="site")
router.register("stations", ChargingStationViewSet, basename="station")
router.register("connectors", ConnectorViewSet, basename="connector")
router.register("charging-profiles", ChargingProfileViewSet, basename="chargingprofile")
org_router = OrganizationRouter()
org_router.register("sites", SiteViewSet, basename="site")
org_router.register("stations", ChargingStationViewSet, basename="station")
org_router.register("charging-profiles", ChargingProfileViewSet, basename="chargingprofile")

urlpatterns = router.urls + org_router.urls
